"""Reading `trading/` at each point verify compares, through the engine only.

Each reader returns a `codecompare.Observation`; `trading.codedigest` hashes
the bytes at every point, so the points differ only in where the bytes came
from. Filesystems are read with the archive API (`get_archive`), which sees a
container's mounts: a volume mounted over the code path shows up as what it is.
What the kernel knows about a container's processes comes from verify's side container
(`ask_inside`, running `deploy.engine.scripts.inside`); what a process says it imported, from its
heartbeat, read through the archive API too (`read_heartbeat`). Both are read once and shared with the checks.
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
from deploy.engine import archive, helpers, scripts
from deploy.steps import heartbeats
from deploy.verify.codecompare import Observation
from trading import codedigest


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
    """Verify's side container could not read the processes of a container (its last line of stderr, or why)."""


def sidecar_spec(container_id: str) -> dict[str, Any]:
    """The `helpers.run` options of verify's side container beside `container_id` (`deploy.engine.scripts.inside`).

    In the container's PID namespace; root, but with SYS_PTRACE as its only capability (reading another user's
    /proc/<pid>/exe, maps and status needs it); no new privileges, a read-only root, no mounts (no network:
    every helper). The container's own user can neither ptrace nor signal it.
    """
    return {
        "entrypoint": scripts.argv("inside"),
        "user": "0:0",
        "pid_mode": f"container:{container_id}",
        "cap_drop": ["ALL"],
        "cap_add": ["SYS_PTRACE"],
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
    }


def ask_inside(engine: docker.DockerClient, container: Container, image_id: str, project: str) -> dict[str, Any]:
    """The kernel's facts about the processes of `container`, read by a side container of the live image `image_id`.

    The document of `deploy.engine.scripts.inside`, with `sidecar`: the side container's own command (another
    verify's is accounted for by it). Raises InsideFailed when it did not run to its end (a container that
    stopped cannot be joined).
    """
    spec = sidecar_spec(container.id or "")
    try:
        ran = helpers.run(engine, image_id, project, **spec)
    except docker.errors.APIError as exc:
        raise InsideFailed(str(exc.explanation or exc)) from exc
    if ran.exit_code != 0:
        lines = ran.stderr.decode(errors="replace").strip().splitlines()
        raise InsideFailed(lines[-1] if lines else f"exit code {ran.exit_code}")
    return {**json.loads(ran.stdout), "sidecar": spec["entrypoint"]}


def read_heartbeat(container: Container) -> dict[str, Any]:
    """`{"heartbeat": document}` the container's own process wrote (`deploy.steps.heartbeats`), read through the
    archive API, or `{"heartbeat": None, "heartbeat_error": why}`."""
    try:
        return {"heartbeat": heartbeats.read(container, heartbeats.hostname_of(container))}
    except heartbeats.UNREADABLE as exc:
        return {"heartbeat": None, "heartbeat_error": str(exc) or type(exc).__name__}


def read_imported(name: str, container: Container | None, beat: Callable[[], Mapping[str, Any]] | None) -> Observation:
    """The code a process reports it imported (`beat`: `read_heartbeat` of its container, read once).

    Only a heartbeat its own container wrote counts.
    """
    if container is None or beat is None:
        return Observation(name, error=f"no running container for {name}")
    found = beat().get("heartbeat")
    if not isinstance(found, dict):
        return Observation(name, error=f"no readable heartbeat in {container.name}")
    if found.get("hostname") != container.attrs["Config"]["Hostname"]:
        return Observation(name, error=f"heartbeat is from host {found.get('hostname')!r}, not {container.name}")
    code = found.get("code") or {}
    return Observation(name, files=code.get("files") or {}, imported_from=str(code.get("path")))
