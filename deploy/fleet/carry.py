"""Carrying a volume from one engine to another through their archive APIs, and proving the copy.

The source volume is read whole (`get_archive` of a never-started helper that mounts it read-only)
and put into a new volume on the other engine (`put_archive` of a helper that mounts it), which keeps
every file's content, mode and owner; then the copy is read back and its manifest — each entry's
path, type, size, sha256, mode, uid and gid — must equal the source's. Nothing but the Docker API is
used, so either engine may be reached over ssh.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass

import docker

from deploy.engine import archive, helpers
from deploy.errors import DeployError

AT = "/carried"  # where the helpers mount the volume; the archive's entries are below `carried/`
Manifest = dict[str, tuple[str, int, str, int, int, int]]  # path → (type, size, sha256, mode, uid, gid)


@dataclass(frozen=True)
class Carried:
    volume: str
    files: int
    bytes: int


def manifest(tar: bytes) -> Manifest:
    """Every entry of a volume's archive, by path below the volume's root (pure)."""
    found: Manifest = {}
    with tarfile.open(fileobj=io.BytesIO(tar)) as opened:
        for member in opened:
            content = opened.extractfile(member) if member.isfile() else None
            digest = hashlib.sha256(content.read()).hexdigest() if content else member.linkname
            path = member.name.partition("/")[2] or "."
            found[path] = (_kind(member), member.size, digest, member.mode & 0o7777, member.uid, member.gid)
    return found


def _kind(member: tarfile.TarInfo) -> str:
    return "dir" if member.isdir() else "file" if member.isfile() else "link" if member.issym() else "other"


def differences(source: Manifest, copy: Manifest) -> list[str]:
    """What the copy lacks, has more of, or has otherwise, by path (pure)."""
    missing = [f"{path} missing" for path in sorted(source.keys() - copy.keys())]
    extra = [f"{path} extra" for path in sorted(copy.keys() - source.keys())]
    changed = [f"{path} differs" for path in sorted(source.keys() & copy.keys()) if source[path] != copy[path]]
    return missing + extra + changed


def read(engine: docker.DockerClient, image: str, project: str, volume: str) -> bytes:
    """The whole of `volume` as an archive whose entries are below `carried/`."""
    with helpers.idle(engine, image, project, {volume: (AT, "ro")}) as helper:
        return archive.read(helper, AT)


def write(
    engine: docker.DockerClient, image: str, project: str, volume: str, tar: bytes, labels: Mapping[str, str]
) -> Carried:
    """Create `volume` (with `labels`) holding exactly what `tar` holds, read it back and prove it; what it holds."""
    engine.volumes.create(volume, labels=dict(labels))
    with helpers.idle(engine, image, project, {volume: (AT, "rw")}) as helper:
        helper.put_archive("/", tar)
        wrong = differences(manifest(tar), manifest(archive.read(helper, AT)))
    if wrong:
        raise DeployError(
            f"the copy of {volume} is not identical: {', '.join(wrong[:5])}",
            "nothing was started on it; the source is untouched",
            volume=volume,
            differences=wrong,
        )
    found = manifest(tar)
    return Carried(volume, sum(1 for entry in found.values() if entry[0] == "file"), len(tar))
