"""``python -m trading health``: the verdict on one role's heartbeat and the state volume's room, as an exit code."""

from __future__ import annotations

import time

from trading import heartbeat
from trading.config import Settings
from trading.errors import UnhealthyError


def check_health(settings: Settings, role: str) -> str:
    beat = heartbeat.read(settings.heartbeat_file(role))
    why = heartbeat.verdict(beat, time.time(), settings.max_age(), heartbeat.this_host(), heartbeat.process_start)
    full = heartbeat.full(settings.state_dir)
    if why is not None or full is not None:
        raise UnhealthyError(role, "; ".join(reason for reason in (why, full) if reason))
    return f"{role} healthy: tick {beat['ticks']} at {beat['last_tick_at']}"  # type: ignore[index]
