"""The operator's entry points inside the image: status, submit and health."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from trading import heartbeat, payloads
from trading.codedigest import imported_code
from trading.commandbus import FINAL, CommandBus
from trading.config import Settings
from trading.errors import UnhealthyError
from trading.store.persistence import StateStore


def status_report(settings: Settings) -> dict[str, Any]:
    with StateStore(settings.state_file, settings_hash=settings.settings_hash()) as store:
        doc = store.load()
        counters = vars(store.counters)
    beats = {role: heartbeat.read(settings.heartbeat_file(role)) for role in ("bot", "worker")}
    return {
        "state": doc.state,
        "generation": doc.generation,
        "saved_at": doc.saved_at,
        "heartbeat": beats,
        "coherence": {"store": counters, **{r: (b or {}).get("coherence") for r, b in beats.items()}},
        "code": imported_code(),
    }


def format_status(report: dict[str, Any]) -> str:
    state = report["state"]
    lines = [
        f"generation {report['generation']} saved {report['saved_at']}",
        f"cash {state['cash']:.2f}  positions {len(state['positions'])}  "
        f"closed trades {len(state['closed_trades'])}  emergency stop {state['emergency_stop']}",
    ]
    lines += [
        f"  {s}: qty {p['qty']:.6f} entry {p['entry_price']} sl {p['stop_loss']} tp {p['take_profit']}"
        for s, p in sorted(state["positions"].items())
    ]
    for role, beat in report["heartbeat"].items():
        age = "none" if not beat else f"ticks {beat['ticks']}, last {time.time() - beat['last_tick_ts']:.1f}s ago"
        lines.append(f"heartbeat {role}: {age}")
    lines.append(f"code {report['code']['digest']} at {report['code']['path']}")
    return "\n".join(lines)


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


def check_health(settings: Settings, role: str) -> str:
    beat = heartbeat.read(settings.heartbeat_file(role))
    why = heartbeat.verdict(beat, time.time(), settings.max_age(), heartbeat.this_host(), heartbeat.pid_alive)
    if why is not None:
        raise UnhealthyError(role, why)
    return f"{role} healthy: tick {beat['ticks']} at {beat['last_tick_at']}"  # type: ignore[index]
