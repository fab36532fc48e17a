"""``python -m trading health``: the verdict on this container's heartbeat of one role and the state volume's room,
as an exit code."""

from __future__ import annotations

import time
from typing import Any

from trading import heartbeat, stages
from trading.config import Settings
from trading.errors import UnhealthyError


def check_health(settings: Settings, role: str) -> str:
    beat = heartbeat.read(settings.own_heartbeat(role, heartbeat.this_host()))
    why = heartbeat.verdict(beat, time.time(), settings.max_age(), heartbeat.this_host(), heartbeat.process_start)
    full = heartbeat.full(settings.state_dir)
    if why is not None or full is not None:
        raise UnhealthyError(role, "; ".join(reason for reason in (why, full) if reason))
    return said(role, beat or {})


def said(role: str, beat: dict[str, Any]) -> str:
    if beat.get("stage") in stages.WAITING:
        holder = beat.get("waiting_for") or {}
        return f"{role} healthy: {beat['stage']}, waiting for pid {holder.get('pid')} on {holder.get('host')}"
    return f"{role} healthy: tick {beat['ticks']} at {beat['last_tick_at']}"
