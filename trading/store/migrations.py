"""From the seed's unversioned ``live_portfolio.json`` to the current state shape, and new states.

``migrate_legacy`` is idempotent: its output, migrated again, is unchanged.  Pure functions only.
"""

from __future__ import annotations

import copy
from typing import Any

from trading.store.document import State

POSITION_DEFAULTS: dict[str, Any] = {
    "stop_loss": None,
    "take_profit": None,
    "current_price": None,
    "opened_at": None,
    "pending": False,
}


def new_state(starting_capital: float, now: str) -> State:
    return {
        "cash": float(starting_capital),
        "starting_capital": float(starting_capital),
        "created_at": now,
        "positions": {},
        "closed_trades": [],
        "sl_cooldowns": {},
        "repeat_loss_count": 0,
        "emergency_stop": {"active": False, "reason": None, "at": None},
    }


def migrate_position(symbol: str, legacy: dict[str, Any]) -> dict[str, Any]:
    pos = {**POSITION_DEFAULTS, **legacy}
    pos["symbol"] = symbol
    pos["qty"] = float(pos.pop("quantity", pos.get("qty", 0.0)) or 0.0)
    pos["entry_price"] = float(pos.get("entry_price") or 0.0)
    if not pos.get("position_id"):
        pos["position_id"] = f"legacy-{symbol}-{pos['opened_at'] or pos['entry_price']}"
    return pos


def migrate_emergency(legacy: dict[str, Any]) -> dict[str, Any]:
    current = legacy.get("emergency_stop")
    if isinstance(current, dict):
        return current
    return {"active": bool(legacy.get("emergency_stopped")), "reason": legacy.get("emergency_reason"), "at": None}


def migrate_legacy(legacy: dict[str, Any]) -> State:
    """Bring a legacy document to the current state shape, keeping every section it had."""
    state = copy.deepcopy(legacy)
    state["emergency_stop"] = migrate_emergency(state)
    for key in ("emergency_stopped", "emergency_reason"):
        state.pop(key, None)
    state["cash"] = float(state.get("cash", 0.0))
    state.setdefault("starting_capital", state["cash"])
    state.setdefault("created_at", None)
    state["positions"] = {sym: migrate_position(sym, p) for sym, p in (state.get("positions") or {}).items()}
    state["closed_trades"] = list(state.get("closed_trades") or [])
    state.setdefault("sl_cooldowns", {})
    state.setdefault("repeat_loss_count", 0)
    return state
