"""The heartbeat file each process replaces every tick, and the pure health verdict on it."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trading.store.atomic import replace_file
from trading.store.document import utcnow


def write(path: Path, doc: dict[str, Any]) -> None:
    """Atomic for readers; not fsynced, a heartbeat is worthless after a power loss anyway."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, (json.dumps(doc, sort_keys=True) + "\n").encode(), durable=False)


def document(
    role: str, started_at: str, ticks: int, generation: int, coherence: dict[str, Any], code: dict[str, Any]
) -> dict[str, Any]:
    """The heartbeat of this process now (shape in docs/interfaces.md)."""
    return {
        "role": role,
        "pid": os.getpid(),
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


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def verdict(
    doc: dict[str, Any] | None, now: float, max_age: float, hostname: str, alive: Callable[[int], bool]
) -> str | None:
    """None when healthy, else why not (one line)."""
    if doc is None:
        return "no heartbeat yet"
    age = now - float(doc.get("last_tick_ts") or 0.0)
    if age > max_age:
        return f"heartbeat is {age:.1f}s old (max {max_age:.1f}s)"
    if doc.get("hostname") != hostname:
        return f"heartbeat was written by host {doc.get('hostname')!r}, this is {hostname!r}"
    if not alive(int(doc.get("pid") or 0)):
        return f"process {doc.get('pid')} that wrote the heartbeat is gone"
    return None


def this_host() -> str:
    return socket.gethostname()
