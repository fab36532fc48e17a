"""One writer per volume: only the deployment's own bot and worker may mount its state writable, only the
pipeline its records.

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
exit 10); verify names them (check `one writer`, target `state volume`), status lists them as disagreements.

The volume rebuild copies the legacy volume and replaces the state volume: it refuses every container but
its own helpers that mounts either, read-only too, since a mounted volume cannot be removed
(`refuse_mounted`, `VolumeInUse`, exit 9).

The meta volume (`<project>_meta`: ledger, journal, build and release records) is written only by the
pipeline, through its helpers and its lock container (`pipeline`, whatever command made them): verify
names any other writer (check `one writer`, target `meta volume`), status lists it.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine.compose import PROJECT_LABEL, SERVICE_LABEL
from deploy.engine.helpers import HELPER_OF, HOST, PID
from deploy.errors import ForeignWriters, VolumeInUse
from deploy.ids import short
from deploy.policy.check import Check
from deploy.steps.lock import LABEL as LOCK_LABEL
from deploy.steps.rebuilding import REBUILT_FROM

CHECK = "one writer"

Allowed = Callable[[Mapping[str, str]], bool]  # a container's labels → whether it may mount the volume


def own(labels: Mapping[str, str], project: str, services: Collection[str], host: str, pid: int) -> bool:
    """Whether a container with `labels` is the deployment's own (see the module docstring; pure)."""
    if labels.get(PROJECT_LABEL) == project and labels.get(SERVICE_LABEL) in services:
        return True
    return labels.get(HELPER_OF) == project and labels.get(HOST) == host and labels.get(PID) == str(pid)


def pipeline(labels: Mapping[str, str], project: str) -> bool:
    """Whether a container with `labels` is the pipeline's own on the meta volume: a helper or the lock container
    of `project`, made by any command (pure)."""
    return project in (labels.get(HELPER_OF), labels.get(LOCK_LABEL))


def mounts(listed: Mapping[str, Any], volume: str, mountpoint: str, writable_only: bool = True) -> bool:
    """Whether the container (as the engine lists it: `containers.list(sparse=True)`) may write `volume`:

    it mounts the volume writable, or binds the volume's directory on the engine's host (`mountpoint`), a
    directory above it or one in it, writable. Without `writable_only` a read-only mount of the volume counts
    too (it holds the volume: the engine refuses to remove it); a read-only bind can neither write the
    volume nor hold it, and never counts (a container reading the host's `/` is no writer of every volume).
    """
    return any(_mounts(m, volume, PurePosixPath(mountpoint), writable_only) for m in listed.get("Mounts") or ())


def _mounts(mount: Mapping[str, Any], volume: str, mountpoint: PurePosixPath, writable_only: bool) -> bool:
    read_only = not mount.get("RW", True)
    if read_only and (writable_only or mount.get("Type") != "volume"):
        return False
    if mount.get("Type") == "volume":
        return mount.get("Name") == volume
    source = PurePosixPath(str(mount.get("Source") or "/nowhere"))
    overlaps = source == mountpoint or source in mountpoint.parents or mountpoint in source.parents
    return mount.get("Type") == "bind" and overlaps


def mounters(
    listed: Iterable[Mapping[str, Any]], watched: Mapping[str, str], allowed: Allowed, writable_only: bool = True
) -> dict[str, list[str]]:
    """`{volume: [described container, …]}` of the containers `allowed` refuses that mount a `watched` volume
    (`{volume: its directory on the engine's host}`); volumes nobody else mounts are left out (pure)."""
    theirs = [c for c in listed if not allowed(c.get("Labels") or {})]
    found = {
        volume: sorted(describe(c) for c in theirs if mounts(c, volume, where, writable_only))
        for volume, where in watched.items()
    }
    return {volume: named for volume, named in found.items() if named}


def describe(listed: Mapping[str, Any]) -> str:
    """`tb-evil (image 3f2a…, running)`: the container as the engine lists it."""
    names = listed.get("Names") or [short(str(listed.get("Id", "")))]
    return f"{str(names[0]).lstrip('/')} (image {short(str(listed.get('ImageID', '')))}, {listed.get('State')})"


def mountpoints(engine: docker.DockerClient, names: Iterable[str]) -> dict[str, str]:
    """`{volume: its directory on the engine's host}` of those of `names` that exist."""
    found = {}
    for name in names:
        try:
            found[name] = str(engine.volumes.get(name).attrs.get("Mountpoint") or "")
        except docker.errors.NotFound:
            continue  # no container mounts it, or it would exist
    return found


def volumes(settings: Settings, engine: docker.DockerClient) -> dict[str, str]:
    """`mountpoints` of the state volume, and of the legacy volume it was rebuilt from."""
    try:
        legacy = (engine.volumes.get(settings.state_volume).attrs.get("Labels") or {}).get(REBUILT_FROM)
    except docker.errors.NotFound:
        return {}
    return mountpoints(engine, [settings.state_volume, *([legacy] if legacy else [])])


def listed(engine: docker.DockerClient) -> list[dict[str, Any]]:
    """Every container, stopped ones too, as one list call gives them: a short-lived helper removed in between
    cannot fail it."""
    return [c.attrs for c in engine.containers.list(all=True, sparse=True)]


def ours(project: str, services: Collection[str]) -> Allowed:
    """`own` for this process: the project's containers of `services` and this process's helpers."""
    host, pid = socket.gethostname(), os.getpid()
    return lambda labels: own(labels, project, services, host, pid)


def foreign(
    settings: Settings,
    engine: docker.DockerClient,
    services: Collection[str],
    everyone: list[dict[str, Any]] | None = None,
) -> dict[str, list[str]]:
    """`{volume: [described container, …]}` of every foreign writer of the state (and legacy) volume
    (`everyone`: the containers as `listed` gave them, else listed here)."""
    watched = volumes(settings, engine)
    if not watched:
        return {}
    return mounters(listed(engine) if everyone is None else everyone, watched, ours(settings.project, services))


def foreign_records(
    settings: Settings, engine: docker.DockerClient, everyone: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """`{meta volume: [described container, …]}` of every writer of the meta volume but the pipeline's own
    (`everyone`: the containers as `listed` gave them)."""
    watched = mountpoints(engine, [settings.meta_volume])
    return mounters(everyone, watched, lambda labels: pipeline(labels, settings.project)) if watched else {}


def foreign_all(
    settings: Settings, engine: docker.DockerClient, services: Collection[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """`foreign` and `foreign_records`, from one listing of the containers."""
    everyone = listed(engine)
    return foreign(settings, engine, services, everyone), foreign_records(settings, engine, everyone)


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


def refuse_mounted(settings: Settings, engine: docker.DockerClient, names: Sequence[str]) -> None:
    """The rebuild's refusal: `VolumeInUse` naming each container but this process's helpers that mounts one of
    `names`, read-only or stopped too."""
    watched = mountpoints(engine, names)
    found = mounters(listed(engine), watched, ours(settings.project, ()), writable_only=False) if watched else {}
    named = lines(found)
    if named:
        raise VolumeInUse(
            f"{'; '.join(named)}: the rebuild copies the legacy volume and replaces the state volume, so nothing "
            "else may mount either (a stopped container too: dockerd starts it again for `restart: always`); "
            "nothing was changed",
            "find out what each is (`docker inspect NAME`) and remove it (`docker rm -f NAME`; the deployment's own "
            "bot and worker with `tradebot remove`), then run the command again",
            writers=named,
        )


def checks(settings: Settings, engine: docker.DockerClient, services: Collection[str]) -> list[Check]:
    """Verify's `one writer` checks: of the state volume (and legacy), and of the meta volume."""
    state, meta = (lines(found) for found in foreign_all(settings, engine, services))
    return [
        Check("state volume", CHECK, not state, "; ".join(state)),
        Check("meta volume", CHECK, not meta, "; ".join(meta)),
    ]
