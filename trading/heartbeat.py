"""The heartbeat files each process replaces every tick, and the pure health verdict on them.

Each process writes its own file, `heartbeat/<role>/<hostname>.json` (`own_file`): from
`configured` on, with its stage (`trading.stages`), refreshed every second while it stands by,
then every tick. The holder of the role's lock also writes `heartbeat/<role>.json`, so one file
always names the process that trades (or applies commands), and two containers of one role never
write one file. Taking the lock prunes the role's files of other hosts older than `PRUNE_AFTER`.

A heartbeat counts only when this container's own process wrote it: it names the host (the
container's hostname) and the writer's pid with that process's start time (`process_start`, the
kernel's start tick from /proc, so a later process that reuses the pid is told apart). A heartbeat
left in the state volume by the container this one replaced names another host: never healthy.

A full state volume (ENOSPC, EDQUOT) never ends a process over its heartbeat: `Beater` hands the
error to the process's `trading.volume.Volume`, which says so once. While the volume is full
(`full`) no process is healthy: it cannot save; the health check says how full the volume is.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trading import stages
from trading.store.atomic import replace_file
from trading.store.document import utcnow

FULL = (errno.ENOSPC, errno.EDQUOT)
FULL_BELOW = 64 * 1024  # bytes free under which the volume counts as full (a state save needs more)
PRUNE_AFTER = 24 * 3600.0


def write(path: Path, doc: dict[str, Any]) -> None:
    """Atomic for readers; not fsynced, a heartbeat is worthless after a power loss anyway."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, (json.dumps(doc, sort_keys=True) + "\n").encode(), durable=False)


def own_file(role_file: Path, host: str) -> Path:
    """`heartbeat/<role>/<host>.json` beside the role's file `heartbeat/<role>.json`."""
    return role_file.parent / role_file.stem / f"{host}.json"


class Beater:
    """Writes the heartbeat of the role's lock holder (its own file and the role's) every tick, with the
    stage facts of this process's reporter; ``on_full`` tells a full volume (True) apart, and the process
    carries on."""

    def __init__(self, path: Path, on_full: Callable[[OSError], bool]) -> None:
        self.path, self.own, self.on_full = path, own_file(path, this_host()), on_full

    def beat(self, doc: dict[str, Any]) -> None:
        reporter = stages.current()
        if reporter is None:
            self.put_both(doc)
        else:
            reporter.tick(doc, self.put_both)

    def put_both(self, doc: dict[str, Any]) -> None:
        """Its own file, then the role's (skipped when the volume is full)."""
        if self.put(self.own, doc):
            self.put(self.path, doc)

    def put(self, path: Path, doc: dict[str, Any]) -> bool:
        """Write `doc` to `path`; False when the volume is full (`on_full` says so once)."""
        try:
            write(path, doc)
        except OSError as exc:
            if not self.on_full(exc):
                raise
            return False
        return True


def full_error(exc: OSError) -> bool:
    """Whether `exc` is the volume being full (ENOSPC, EDQUOT)."""
    return exc.errno in FULL


def stage_writer(role_file: Path, role: str) -> stages.Writer:
    """What a process's reporter writes its own heartbeat file with, before and between ticks: a full
    volume skips a write (the process says so once it has a `trading.volume.Volume`)."""
    beater, base = Beater(role_file, full_error), identity(role, utcnow())

    def write_own(facts: dict[str, Any]) -> None:
        beater.put(beater.own, {**base, **facts})

    return write_own


def prune(folder: Path, now: float, keep: str | None) -> list[str]:
    """Remove the files in `folder` not written for `PRUNE_AFTER` seconds, but `keep` (a host); the names removed."""
    removed = []
    for path in sorted(folder.glob("*.json")):
        try:
            if path.stem != keep and now - path.stat().st_mtime > PRUNE_AFTER:
                path.unlink()
                removed.append(path.name)
        except FileNotFoundError:
            continue
    return removed


def full(directory: Path) -> str | None:
    """`state volume /var/lib/tradebot is full (4.0 of 4.0 MiB used)` when it has no room for a save, else None."""
    try:
        stat = os.statvfs(directory)
    except OSError:
        return None
    size, free = stat.f_blocks * stat.f_frsize, stat.f_bavail * stat.f_frsize
    if free >= FULL_BELOW:
        return None
    return f"state volume {directory} is full ({(size - free) / 2**20:.1f} of {size / 2**20:.1f} MiB used)"


def document(
    role: str, started_at: str, ticks: int, generation: int, coherence: dict[str, Any], code: dict[str, Any]
) -> dict[str, Any]:
    """The heartbeat of this process now (shape in docs/interfaces.md)."""
    return {
        **identity(role, started_at),
        "ticks": ticks,
        "last_tick_at": utcnow(),
        "last_tick_ts": time.time(),
        "state_generation": generation,
        "coherence": coherence,
        "code": code,
    }


def identity(role: str, started_at: str) -> dict[str, Any]:
    """Who writes a heartbeat: role, pid with its start, this container's hostname, and since when."""
    pid = os.getpid()
    return {
        "role": role,
        "pid": pid,
        "process_start": process_start(pid),
        "hostname": this_host(),
        "started_at": started_at,
    }


def read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def process_start(pid: int) -> str | None:
    """The start time of process `pid` in clock ticks since boot (/proc/PID/stat field 22); None when gone."""
    if pid <= 0:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def verdict(
    doc: dict[str, Any] | None, now: float, max_age: float, hostname: str, started: Callable[[int], str | None]
) -> str | None:
    """None when healthy, else why not (one line). `started(pid)` is that process's start here, if it runs.

    A process standing by for a lock (or fenced) is healthy while it refreshes its heartbeat; one that
    has not ticked yet is starting, not healthy."""
    if doc is None:
        return "no heartbeat yet"
    if doc.get("hostname") != hostname:
        return f"heartbeat was written by host {doc.get('hostname')!r} (a replaced container), this is {hostname!r}"
    pid = int(doc.get("pid") or 0)
    if started(pid) != doc.get("process_start"):
        return f"process {pid} that wrote the heartbeat is gone (started {doc.get('process_start')})"
    stage = doc.get("stage")
    if stage in stages.WAITING:
        age = now - float(doc.get("beat_ts") or 0.0)
        return None if age <= max_age else f"{stage} heartbeat is {age:.1f}s old (max {max_age:.1f}s)"
    if stage is not None and stages.rank(stage) < stages.rank(stages.RUNNING):
        return f"starting: stage {stage}, no tick yet"
    age = now - float(doc.get("last_tick_ts") or 0.0)
    if age > max_age:
        return f"heartbeat is {age:.1f}s old (max {max_age:.1f}s)"
    return None


def this_host() -> str:
    return socket.gethostname()
