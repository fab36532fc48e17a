"""One deploy at a time per deployment: the container `<project>-deploy-lock` on the engine, created, never started.

Creating a container under a name is atomic on the engine, so of two deploys on any
machines sharing one engine exactly one gets the lock; the other reads the holder from
the container's labels (machine, user, pid, since, what) and is refused naming it.
Leaving the block removes the holder's own container, by its id: never a lock another took
since (after an `invoke unlock`, or a removal by hand).

A holder that died leaves its lock behind:
- on this machine (same hostname, its pid gone) it is recognised as dead and replaced, saying so;
- on another machine nobody here can tell: `invoke unlock` removes it and names the holder it removed.
`invoke unlock` refuses a holder whose process is alive on this machine: that deploy is not dead.
The lock container mounts the meta volume, and the holder reads and writes its ledger through it
(`deploy.records.meta.through`) instead of through a helper container per read and write; before the
deployment's first record there is no meta volume to mount, and helpers do it.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import docker
import docker.errors
from docker.models.containers import Container

from deploy.config import Settings
from deploy.engine import baseimage
from deploy.engine.helpers import pid_alive
from deploy.errors import LockHeld
from deploy.records import ledger, meta

LABEL = "io.tradebot.lock"
FIELDS = ("by", "host", "pid", "since", "what")


@dataclass(frozen=True)
class Holder:
    by: str
    host: str
    pid: int
    since: str
    what: str

    def labels(self, project: str) -> dict[str, str]:
        return {LABEL: project, **{f"{LABEL}.{name}": str(getattr(self, name)) for name in FIELDS}}

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> Holder:
        values = {name: labels.get(f"{LABEL}.{name}", "") for name in FIELDS}
        pid = values.pop("pid")
        return cls(pid=int(pid) if pid.isdigit() else 0, **values)

    def describe(self) -> str:
        return f"{self.by or 'an unknown holder'} (pid {self.pid}, {self.what or 'unknown work'})"


def me(what: str) -> Holder:
    return Holder(ledger.operator(), socket.gethostname(), os.getpid(), ledger.now(), what)


def dead_here(holder: Holder, host: str, alive: Callable[[int], bool]) -> bool:
    """Whether `holder` ran on `host` and its process is gone (only then can this machine tell)."""
    return holder.host == host and holder.pid > 0 and not alive(holder.pid)


@contextlib.contextmanager
def held(
    settings: Settings, engine: docker.DockerClient, what: str, say: Callable[[str], None] = print
) -> Iterator[Holder]:
    """Hold the deploy lock for the block; raise `LockHeld` at once, naming the holder, when another has it."""
    holder = me(what)
    container = _acquire(settings, engine, holder, say)
    try:
        with meta.through(settings, container):
            yield holder
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            engine.api.remove_container(container.id, force=True)


def current(settings: Settings, engine: docker.DockerClient) -> Holder | None:
    """Who holds the lock now (None: nobody)."""
    container = _container(settings, engine)
    return Holder.from_labels(container.labels) if container else None


def alive_here(holder: Holder, host: str, alive: Callable[[int], bool]) -> bool:
    """Whether `holder` runs on `host` and its process is still there (then it is no dead deploy)."""
    return holder.host == host and holder.pid > 0 and alive(holder.pid)


def unlock(settings: Settings, engine: docker.DockerClient) -> Holder | None:
    """Remove the lock of a holder that is gone or on another machine; the holder removed (None: no lock).

    Raises `LockHeld` when the holder's process is alive on this machine.
    """
    container = _container(settings, engine)
    if container is None:
        return None
    holder = Holder.from_labels(container.labels)
    if alive_here(holder, socket.gethostname(), pid_alive):
        raise LockHeld(
            f"deploy lock held by {holder.describe()} since {holder.since}, alive on this machine: no dead deploy",
            f"wait for it to finish (or stop process {holder.pid}); `invoke unlock` removes only the lock of a holder "
            "that is gone or on another machine",
            holder=holder.describe(),
            since=holder.since,
            lock=settings.lock_name,
        )
    with contextlib.suppress(docker.errors.NotFound):
        engine.api.remove_container(container.id, force=True)
    return holder


def _container(settings: Settings, engine: docker.DockerClient) -> Container | None:
    try:
        return engine.containers.get(settings.lock_name)
    except docker.errors.NotFound:
        return None


def _acquire(settings: Settings, engine: docker.DockerClient, holder: Holder, say: Callable[[str], None]) -> Container:
    """Create the lock; a holder that died on this machine is removed first (by id: never a fresh holder's lock)."""
    for _ in range(3):
        try:
            return _create(settings, engine, holder)
        except docker.errors.APIError as exc:
            if exc.status_code != 409:
                raise
        found = _container(settings, engine)
        if found is None:
            continue  # released between our attempt and the look
        other = Holder.from_labels(found.labels)
        if not dead_here(other, holder.host, pid_alive):
            raise held_by(other.describe(), other.since, settings.lock_name)
        say(f"lock: {other.describe()} died on this machine; removing its lock")
        with contextlib.suppress(docker.errors.NotFound):
            found.remove(force=True)
    raise held_by("another deploy", "just now", settings.lock_name)


def held_by(holder: str, since: str, name: str) -> LockHeld:
    return LockHeld(
        f"deploy lock held by {holder} since {since}",
        f"wait for that deploy to finish; if it is dead, `invoke unlock` removes the lock (container {name})",
        holder=holder,
        since=since,
        lock=name,
    )


def _create(settings: Settings, engine: docker.DockerClient, holder: Holder) -> Container:
    """The lock container; it mounts the meta volume when there is one (a refused first command makes none)."""
    return engine.containers.create(
        baseimage.resolve(settings, engine),
        ["true"],
        name=settings.lock_name,
        labels=holder.labels(settings.project),
        network_disabled=True,
        volumes=meta.mounts(settings) if meta.exists(settings, engine) else {},
    )
