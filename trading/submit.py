"""``python -m trading submit``: check a command at the door, enqueue it, optionally wait for its end."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from trading import payloads
from trading.commandbus import FINAL, CommandBus
from trading.config import Settings


def submit(settings: Settings, kind: str, text: str, wait: float, ttl: float, key: str | None) -> dict[str, Any]:
    """Check and enqueue a command with its checksum, expiry and idempotency key; optionally wait for its end."""
    payload = payloads.parse(text)
    payloads.validate(kind, payload)
    bus = CommandBus(settings.commands_db)
    try:
        row = bus.enqueue(kind, payload, payloads.checksum(payload), key or str(uuid.uuid4()), time.time() + ttl)
        deadline = time.monotonic() + wait
        while row["status"] not in FINAL and time.monotonic() < deadline:
            time.sleep(0.05)
            row = bus.get(row["id"]) or row
    finally:
        bus.close()
    result = json.loads(row["result"]) if row["result"] else None
    return {"id": row["id"], "status": row["status"], "result": result, "error": row["error"]}
