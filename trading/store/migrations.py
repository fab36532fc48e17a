"""From the seed's unversioned ``live_portfolio.json`` to the current state shape, and new states.

``migrate_legacy`` is idempotent: its output, migrated again, is unchanged.  Positions come as an
object by symbol or as a list of objects naming their symbol.  A legacy file without
``starting_capital`` gets the one that balances its books: cash + cost of the open positions -
realised P&L of its closed trades (the drawdown and its emergency stop measure from it);
``inferences`` says what was inferred.  Pure functions only.
"""

from __future__ import annotations

import copy
from typing import Any

from trading.errors import MigrationError
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


def by_symbol(positions: object) -> dict[str, Any]:
    """Legacy positions as an object by symbol; a list's items name their symbol, each once."""
    if isinstance(positions, dict):
        items = [(sym, pos) for sym, pos in positions.items()]
    elif isinstance(positions, list):
        items = [(pos.get("symbol") if isinstance(pos, dict) else None, pos) for pos in positions]
    elif positions is None:
        items = []
    else:
        raise MigrationError(f"positions is {type(positions).__name__}, neither an object nor a list")
    found: dict[str, Any] = {}
    for index, (sym, pos) in enumerate(items):
        if not isinstance(sym, str) or not sym or sym in found or not isinstance(pos, dict):
            raise MigrationError(f"position {index + 1} ({sym!r}) is no object of its own symbol")
        found[sym] = pos
    return found


def capital(state: State) -> tuple[float, float, float]:
    """Cash, cost of the open positions and realised P&L of a migrated state's trades."""
    cost = sum(float(p["qty"]) * float(p["entry_price"]) for p in state["positions"].values())
    realised = sum(float(t.get("pnl") or 0.0) for t in state["closed_trades"] if isinstance(t, dict))
    return float(state["cash"]), cost, realised


def migrate_legacy(legacy: dict[str, Any]) -> State:
    """Bring a legacy document to the current state shape, keeping every section it had."""
    state = copy.deepcopy(legacy)
    state["emergency_stop"] = migrate_emergency(state)
    for key in ("emergency_stopped", "emergency_reason"):
        state.pop(key, None)
    state["cash"] = float(state.get("cash", 0.0))
    state.setdefault("created_at", None)
    state["positions"] = {sym: migrate_position(sym, p) for sym, p in by_symbol(state.get("positions")).items()}
    state["closed_trades"] = list(state.get("closed_trades") or [])
    cash, cost, realised = capital(state)
    state.setdefault("starting_capital", cash + cost - realised)
    state.setdefault("sl_cooldowns", {})
    state.setdefault("repeat_loss_count", 0)
    return state


def inferences(legacy: dict[str, Any]) -> list[str]:
    """What ``migrate_legacy`` infers for ``legacy`` that the file does not say, one sentence each."""
    if "starting_capital" in legacy:
        return []
    state = migrate_legacy(legacy)
    cash, cost, realised = capital(state)
    return [
        f"starting_capital {state['starting_capital']:.2f} inferred as cash {cash:.2f} + cost of the open "
        f"positions {cost:.2f} - realised P&L {realised:.2f} of {len(state['closed_trades'])} closed trades "
        "(the legacy file names none)"
    ]
