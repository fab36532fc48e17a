"""``python -m trading submit``: check a command at the door, enqueue it, optionally wait for its end."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from typing import Any

from trading import heartbeat, payloads
from trading.commandbus import FINAL, CommandBus
from trading.config import Settings
from trading.errors import VolumeFullError
from trading.volume import is_full


def submit(settings: Settings, kind: str, text: str, wait: float, ttl: float, key: str | None) -> dict[str, Any]:
    """Check and enqueue a command with its checksum, expiry and idempotency key; optionally wait for its end.

    A full state volume is ``VolumeFullError`` (nothing enqueued), not a traceback.
    """
    payload = payloads.parse(text)
    payloads.validate(kind, payload)
    bus = CommandBus(settings.commands_db)
    try:
        row = bus.enqueue(kind, payload, payloads.checksum(payload), key or str(uuid.uuid4()), time.time() + ttl)
        row = awaited(bus, row, wait)
    except sqlite3.OperationalError as exc:
        if not is_full(exc, settings.state_dir):
            raise
        raise VolumeFullError(heartbeat.full(settings.state_dir) or f"{exc} on {settings.state_dir}") from exc
    finally:
        bus.close()
    result = json.loads(row["result"]) if row["result"] else None
    return {"id": row["id"], "status": row["status"], "result": result, "error": row["error"]}


def awaited(bus: CommandBus, row: dict[str, Any], wait: float) -> dict[str, Any]:
    """The command's row once it finished, or as it is after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while row["status"] not in FINAL and time.monotonic() < deadline:
        time.sleep(0.05)
        row = bus.get(row["id"]) or row
    return row
