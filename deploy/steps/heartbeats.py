"""A service's heartbeat (`trading.heartbeat`), read from its container through the archive API.

Each process writes its own file, `heartbeat/<role>/<hostname>.json` (`path(role, hostname)`, the
container's `Config.Hostname`); the holder of the role's lock also writes `heartbeat/<role>.json`
(`path(role)`). With two containers of a service (a standby beside the live one) only the own file
says which is which; a release older than the stage protocol wrote the role's file only, so a read
of a container's own file falls back on it.

The process replaces the file by rename on every tick. The engine sizes the tar header from one
inode and may stream another, so an archive can come back torn; a fresh read gets a whole file.
`invoke status` reads the bot's this way, and verify each service container's own (`deploy.verify.points`).
"""

from __future__ import annotations

import json
import tarfile
import time
from typing import Any

import docker.errors
from docker.models.containers import Container

from deploy.config import STATE_PATH
from deploy.engine import archive
from deploy.engine.compose import SERVICE_LABEL

READ_ATTEMPTS = 5
UNREADABLE = (docker.errors.NotFound, tarfile.TarError, ValueError)


def path(role: str, hostname: str | None = None) -> str:
    """The heartbeat of `role`'s process in the container `hostname`; without one, of the role's lock holder."""
    return (
        f"{STATE_PATH}/heartbeat/{role}.json" if hostname is None else f"{STATE_PATH}/heartbeat/{role}/{hostname}.json"
    )


def hostname_of(container: Container) -> str:
    return str(container.attrs["Config"]["Hostname"])


def own(container: Container) -> str:
    """The path of the heartbeat the container's own process writes."""
    return path(container.labels.get(SERVICE_LABEL, ""), hostname_of(container))


def read(container: Container, hostname: str | None = None) -> dict[str, Any]:
    """The heartbeat of the container's service: its own process's when `hostname` (its `hostname_of`) is
    given, or the role's when that file is missing (an older release); else the role's lock holder's.
    Raises one of UNREADABLE."""
    role = container.labels.get(SERVICE_LABEL, "")
    found = _read(container, path(role, hostname)) if hostname is not None else None
    found = found if found is not None else _read(container, path(role))
    if found is None:
        raise ValueError(f"no heartbeat at {path(role, hostname)} nor {path(role)}")
    return found


def _read(container: Container, where: str) -> dict[str, Any] | None:
    """The document at `where`, None when there is no such file."""
    for attempt in range(1, READ_ATTEMPTS):
        try:
            return _read_json(container, where)
        except (tarfile.TarError, ValueError):
            time.sleep(0.05 * attempt)
    return _read_json(container, where)


def _read_json(container: Container, where: str) -> dict[str, Any] | None:
    found = archive.fetch(container, where)
    if not found:
        return None
    (data,) = found.values()
    return dict(json.loads(data))
