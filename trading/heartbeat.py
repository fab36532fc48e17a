"""The heartbeat file each process replaces every tick, and the pure health verdict on it.

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

from trading.store.atomic import replace_file
from trading.store.document import utcnow

FULL = (errno.ENOSPC, errno.EDQUOT)
FULL_BELOW = 64 * 1024  # bytes free under which the volume counts as full (a state save needs more)


def write(path: Path, doc: dict[str, Any]) -> None:
    """Atomic for readers; not fsynced, a heartbeat is worthless after a power loss anyway."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, (json.dumps(doc, sort_keys=True) + "\n").encode(), durable=False)


class Beater:
    """Writes one role's heartbeat; ``on_full`` tells a full volume (True) apart, and the process carries on."""

    def __init__(self, path: Path, on_full: Callable[[OSError], bool]) -> None:
        self.path, self.on_full = path, on_full

    def beat(self, doc: dict[str, Any]) -> None:
        try:
            write(self.path, doc)
        except OSError as exc:
            if not self.on_full(exc):
                raise


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
        "role": role,
        "pid": os.getpid(),
        "process_start": process_start(os.getpid()),
        "hostname": this_host(),
        "started_at": started_at,
        "ticks": ticks,
        "last_tick_at": utcnow(),
        "last_tick_ts": time.time(),
        "state_generation": generation,
        "coherence": coherence,
        "code": code,
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
    """None when healthy, else why not (one line). `started(pid)` is that process's start here, if it runs."""
    if doc is None:
        return "no heartbeat yet"
    if doc.get("hostname") != hostname:
        return f"heartbeat was written by host {doc.get('hostname')!r} (a replaced container), this is {hostname!r}"
    pid = int(doc.get("pid") or 0)
    if started(pid) != doc.get("process_start"):
        return f"process {pid} that wrote the heartbeat is gone (started {doc.get('process_start')})"
    age = now - float(doc.get("last_tick_ts") or 0.0)
    if age > max_age:
        return f"heartbeat is {age:.1f}s old (max {max_age:.1f}s)"
    return None


def this_host() -> str:
    return socket.gethostname()
