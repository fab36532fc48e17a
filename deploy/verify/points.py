"""Reading `trading/` at each point verify compares, through the engine only.

Each reader returns a `codecompare.Observation`; `trading.codedigest` hashes
the bytes at every point, so the points differ only in where the bytes came
from. Filesystems are read with the archive API (`get_archive`), which sees a
container's mounts: a volume mounted over the code path shows up as what it is.
What only the processes know (what they imported, who they run as) comes from one
exec of `deploy.engine.scripts.inside` per container (`ask_inside`), shared with the checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.images import Image

from deploy.config import CODE_PATH
from deploy.engine import archive, execs, helpers, scripts
from deploy.engine.compose import SERVICE_LABEL
from deploy.errors import ExecRefused
from deploy.steps import heartbeats
from deploy.verify.codecompare import Observation
from trading import codedigest

WRITE_PROBE = "/.tradebot-verify-probe"


def tar_owners(data: bytes) -> list[tuple[str, int, int, int]]:
    """`(path in the container, uid, gid, permission bits)` of every entry in an archive of the code path."""
    return archive.owners(data, CODE_PATH.rpartition("/")[0])


def code_archive(container: Container) -> bytes:
    """The code path of a container as the engine streams it; raises docker.errors.NotFound when it is missing."""
    return archive.read(container, CODE_PATH)


def read_container(name: str, container: Container | None, code: Callable[[], bytes] | None = None) -> Observation:
    """The code a container sees at the code path now (mounts included); `code`: its code archive, read once."""
    if container is None:
        return Observation(name, error=f"no running {name}")
    try:
        data = code() if code else code_archive(container)
    except docker.errors.NotFound:
        return Observation(name, error=f"{CODE_PATH} does not exist in {container.name}")
    return Observation(name, files=codedigest.hash_entries(archive.unpack(data).items()))


def read_image(engine: docker.DockerClient, image: Image, project: str) -> Observation:
    """The code baked into the image: read from an idle helper of it (created, never started)."""
    with helpers.idle(engine, image.id, project) as probe:
        return read_container("image", probe)


def read_label(image: Image, label: str) -> Observation:
    return Observation("label", declared_digest=(image.labels or {}).get(label))


class InsideFailed(Exception):
    """`deploy.engine.scripts.inside` did not run to its end in a container (its last line of stderr)."""


def ask_inside(container: Container) -> dict[str, Any]:
    """One exec of `deploy.engine.scripts.inside` in `container`, as its user: processes, root-write probe, heartbeat.

    Raises ExecRefused when the container stopped or went away (CommandNotStarted when it has no python3),
    InsideFailed when the script failed.
    """
    argv = scripts.argv("inside", heartbeats.path(container.labels.get(SERVICE_LABEL, "")), WRITE_PROBE)
    ran = execs.run(container, argv)
    if ran.exit_code != 0:
        lines = ran.stderr.decode(errors="replace").strip().splitlines()
        raise InsideFailed(lines[-1] if lines else f"exit code {ran.exit_code}")
    return dict(json.loads(ran.stdout))


def read_imported(name: str, container: Container | None, asked: Callable[[], Mapping[str, Any]] | None) -> Observation:
    """The code a process reports it imported (`asked`: `ask_inside` of its container, asked once).

    Only a heartbeat its own container wrote counts.
    """
    if container is None or asked is None:
        return Observation(name, error=f"no running container for {name}")
    try:
        beat = asked().get("heartbeat")
    except (ExecRefused, InsideFailed) as exc:
        return Observation(name, error=f"could not ask inside {container.name}: {exc}")
    if not isinstance(beat, dict):
        return Observation(name, error=f"no readable heartbeat in {container.name}")
    if beat.get("hostname") != container.attrs["Config"]["Hostname"]:
        return Observation(name, error=f"heartbeat is from host {beat.get('hostname')!r}, not {container.name}")
    code = beat.get("code") or {}
    return Observation(name, files=code.get("files") or {}, imported_from=str(code.get("path")))
