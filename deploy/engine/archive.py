"""Tar archives, the form files take through the engine's archive API (`put_archive`, `get_archive`).

Every file that goes into or comes out of a container or volume passes here: `pack` what is put,
`fetch` (or `read` and `unpack`) what is got; `owners` and `members` read an archive's headers.
Pure, except `read` and `fetch`, which ask a container.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Mapping

import docker.errors
from docker.models.containers import Container


def pack(files: Mapping[str, bytes], mode: int = 0o644) -> bytes:
    """A tar archive of `files` (relative path → content) with their folders (0755), each file `mode`."""
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for folder in sorted({path.rpartition("/")[0] for path in files} - {""}):
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, now
            archive.addfile(info)
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), mode, now
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def unpack(archive: bytes) -> dict[str, bytes]:
    """The regular files of a `get_archive` answer, by their path below the folder asked for (a file: its name)."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            content = tar.extractfile(member) if member.isfile() else None
            if content is not None:
                files[member.name.partition("/")[2] or member.name] = content.read()
    return files


def read(container: Container, path: str) -> bytes:
    """The archive of `path` in `container` as the engine streams it; docker.errors.NotFound when it is missing."""
    stream, _ = container.get_archive(path)
    return b"".join(stream)


def fetch(container: Container, path: str) -> dict[str, bytes]:
    """The files at `path` in `container` (a file, or every file below a folder); empty when there is none."""
    try:
        return unpack(read(container, path))
    except docker.errors.NotFound:
        return {}


def owners(archive: bytes, parent: str) -> list[tuple[str, int, int, int]]:
    """`(path below parent, uid, gid, permission bits)` of every entry of an archive read at a folder in `parent`."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return [(f"{parent}/{member.name}", member.uid, member.gid, member.mode & 0o7777) for member in tar]


def members(archive: bytes) -> list[str]:
    """The names of every entry, in the archive's order."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return tar.getnames()
