"""A service's heartbeat (`trading.heartbeat`), read from its container through the archive API.

The process replaces the file by rename on every tick. The engine sizes the tar header from one
inode and may stream another, so an archive can come back torn; a fresh read gets a whole file.
`invoke status` reads the bot's this way (verify asks for both inside, `deploy.engine.scripts.inside`).
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


def path(role: str) -> str:
    return f"{STATE_PATH}/heartbeat/{role}.json"


def read(container: Container) -> dict[str, Any]:
    """The heartbeat document of the container's service; raises one of UNREADABLE."""
    where = path(container.labels.get(SERVICE_LABEL, ""))
    for attempt in range(1, READ_ATTEMPTS):
        try:
            return _read_json(container, where)
        except (tarfile.TarError, ValueError):
            time.sleep(0.05 * attempt)
    return _read_json(container, where)


def _read_json(container: Container, where: str) -> dict[str, Any]:
    (data,) = archive.fetch(container, where).values()  # a missing file: nothing to unpack, a ValueError
    return dict(json.loads(data))
