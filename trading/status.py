"""``python -m trading status``: the state, heartbeats, counters and code, read without writing.

``heartbeat`` is each role's lock holder's; ``containers`` the stage of every process whose own
heartbeat file is there (a standby beside the holder shows as ``standing_by``).

Nothing is created, repaired, migrated or quarantined (``trading.store.peek``); what needs a
repair is listed under ``findings`` with the command that does it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from trading import heartbeat
from trading.codedigest import imported_code
from trading.config import Settings
from trading.store.peek import peek


def status_report(settings: Settings) -> dict[str, Any]:
    found = peek(settings.state_file)
    beats = {role: heartbeat.read(settings.heartbeat_file(role)) for role in ("bot", "worker")}
    return {
        "state": found.doc.state,
        "generation": found.doc.generation,
        "saved_at": found.doc.saved_at,
        "read_from": found.source,
        "findings": found.findings,
        "heartbeat": beats,
        "coherence": {r: (b or {}).get("coherence") for r, b in beats.items()},
        "containers": {role: containers(settings.heartbeat_file(role).with_suffix("")) for role in ("bot", "worker")},
        "code": imported_code(),
    }


def containers(folder: Path) -> dict[str, dict[str, Any]]:
    """Each host's process of a role by its own heartbeat: stage, since when, pid, release, what it waits for."""
    found = {}
    for path in sorted(folder.glob("*.json")):
        doc = heartbeat.read(path) or {}
        keys = ("stage", "stage_ts", "pid", "release", "waiting_for", "beat_ts")
        found[path.stem] = {key: doc.get(key) for key in keys}
    return found


def format_status(report: dict[str, Any]) -> str:
    state = report["state"]
    lines = [f"finding: {f}" for f in report["findings"]]
    lines += [
        f"generation {report['generation']} saved {report['saved_at']} (read from {report['read_from']})",
        f"cash {state['cash']:.2f}  positions {len(state['positions'])}  "
        f"closed trades {len(state['closed_trades'])}  emergency stop {state['emergency_stop']}",
    ]
    lines += [
        f"  {s}: qty {p['qty']:.6f} entry {p['entry_price']} mark {p.get('current_price')} "
        f"sl {p.get('stop_loss')} tp {p.get('take_profit')}"
        for s, p in sorted(state["positions"].items())
    ]
    for role, beat in report["heartbeat"].items():
        age = "none" if not beat else f"ticks {beat['ticks']}, last {time.time() - beat['last_tick_ts']:.1f}s ago"
        lines.append(f"heartbeat {role}: {age}")
    for role, hosts in report["containers"].items():
        for host, seen in hosts.items():
            age = f"{time.time() - float(seen['beat_ts'] or 0):.1f}s ago" if seen.get("beat_ts") else "no beat"
            lines.append(f"{role} on {host}: {seen['stage'] or 'no stage'} (pid {seen['pid']}, written {age})")
    lines.append(f"code {report['code']['digest']} at {report['code']['path']}")
    return "\n".join(lines)
