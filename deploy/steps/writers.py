"""One writer per state volume: only the deployment's own bot and worker may mount its state writable.

A container of another stack, or one run by hand, that mounts `<project>_state` writes the same
files as the bot: two bots trading one portfolio, or a restore copying state under a running writer.
A state volume made by the rebuild names its legacy volume (`REBUILT_FROM`); a legacy bot still
mounting that one trades the same account from the old copy, so it counts too.

Rules:
- Allowed (`own`): a container of the project's declared services (Compose's project and service
  labels: the containers a deploy, rollback or restore replaces), and a helper this very process made
  (`deploy.engine.helpers.labels`: a backup or restore copy of the procedure itself).
- A read-only mount writes nothing: it is no writer.
- A stopped container counts: one with a restart policy comes back with the daemon.
- Binding the volume's directory on the engine's host (or one above or in it) writable is writing it too.
- Foreign writers are named, never removed: they may be someone else's, and they are evidence.

Deploy and rollback refuse in their preflight, restore before it stops anything (`ForeignWriters`,
exit 10); verify names them (check `one writer`), status lists them as disagreements.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Collection, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine.compose import PROJECT_LABEL, SERVICE_LABEL
from deploy.engine.helpers import HELPER_OF, HOST, PID
from deploy.errors import ForeignWriters
from deploy.ids import short
from deploy.policy.check import Check

REBUILT_FROM = "io.tradebot.rebuilt-from"  # a state volume's label: the legacy volume it was rebuilt from
CHECK = "one writer"


def own(labels: Mapping[str, str], project: str, services: Collection[str], host: str, pid: int) -> bool:
    """Whether a container with `labels` is the deployment's own (see the module docstring; pure)."""
    if labels.get(PROJECT_LABEL) == project and labels.get(SERVICE_LABEL) in services:
        return True
    return labels.get(HELPER_OF) == project and labels.get(HOST) == host and labels.get(PID) == str(pid)


def writes(listed: Mapping[str, Any], volume: str, mountpoint: str) -> bool:
    """Whether the container (as the engine lists it: `containers.list(sparse=True)`) may write `volume`.

    It mounts the volume writable, or binds the volume's directory on the engine's host (`mountpoint`), a
    directory above it or one in it, writable.
    """
    return any(_writes(m, volume, PurePosixPath(mountpoint)) for m in listed.get("Mounts") or ())


def _writes(mount: Mapping[str, Any], volume: str, mountpoint: PurePosixPath) -> bool:
    if not mount.get("RW", True):
        return False
    if mount.get("Type") == "volume":
        return mount.get("Name") == volume
    source = PurePosixPath(str(mount.get("Source") or "/nowhere"))
    overlaps = source == mountpoint or source in mountpoint.parents or mountpoint in source.parents
    return mount.get("Type") == "bind" and overlaps


def describe(listed: Mapping[str, Any]) -> str:
    """`tb-evil (image 3f2a…, running)`: the container as the engine lists it."""
    names = listed.get("Names") or [short(str(listed.get("Id", "")))]
    return f"{str(names[0]).lstrip('/')} (image {short(str(listed.get('ImageID', '')))}, {listed.get('State')})"


def volumes(settings: Settings, engine: docker.DockerClient) -> dict[str, str]:
    """`{volume: its directory on the engine's host}`: the state volume, and the legacy volume it was rebuilt from."""
    try:
        state = engine.volumes.get(settings.state_volume).attrs
    except docker.errors.NotFound:
        return {}  # no container mounts it, or it would exist
    found = {settings.state_volume: str(state.get("Mountpoint") or "")}
    legacy = (state.get("Labels") or {}).get(REBUILT_FROM)
    if legacy:
        with contextlib.suppress(docker.errors.NotFound):
            found[legacy] = str(engine.volumes.get(legacy).attrs.get("Mountpoint") or "")
    return found


def foreign(settings: Settings, engine: docker.DockerClient, services: Collection[str]) -> dict[str, list[str]]:
    """`{volume: [described container, …]}` of every foreign writer of the state (and legacy) volume.

    One list call of every container, stopped ones too, no inspect: a short-lived helper removed in
    between cannot fail it.
    """
    watched = volumes(settings, engine)
    if not watched:
        return {}
    host, pid = socket.gethostname(), os.getpid()
    listed = [c.attrs for c in engine.containers.list(all=True, sparse=True)]
    theirs = [c for c in listed if not own(c.get("Labels") or {}, settings.project, services, host, pid)]
    found = {
        volume: sorted(describe(c) for c in theirs if writes(c, volume, where)) for volume, where in watched.items()
    }
    return {volume: named for volume, named in found.items() if named}


def lines(found: Mapping[str, Iterable[str]], already: Iterable[str] = ()) -> list[str]:
    """`<container> mounts <volume>`, one per foreign writer; one `already` names (`container <name> …`) is left out."""
    said = list(already)
    return [
        f"{container} mounts {volume}"
        for volume, containers in found.items()
        for container in containers
        if not _named(container.split(" (")[0], said)
    ]


def _named(name: str, said: Iterable[str]) -> bool:
    return any(re.search(rf"\bcontainer {re.escape(name)}[ ,]", line) for line in said)


def refuse(settings: Settings, engine: docker.DockerClient, services: Collection[str]) -> None:
    """Raise `ForeignWriters` naming each container but the deployment's own that may write its state."""
    named = lines(foreign(settings, engine, services))
    if named:
        raise ForeignWriters(
            f"{'; '.join(named)}: another writer of the state; nothing was stopped",
            "find out what it is (`docker inspect NAME`); stop and remove it (`docker rm -f NAME`) "
            "if it is not meant to trade, then run the command again",
            writers=named,
        )


def check(settings: Settings, engine: docker.DockerClient, services: Collection[str]) -> Check:
    """Verify's `one writer` check of the state volume."""
    named = lines(foreign(settings, engine, services))
    return Check("state volume", CHECK, not named, "; ".join(named))
