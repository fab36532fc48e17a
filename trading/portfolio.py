"""Changes to the state's portfolio, shared by the bot's trades and the worker's commands.

Pure functions on the state dict: they mutate what they are given and touch nothing else.

The books balance when ``cash = starting capital + realised P&L of every closed trade (archived
ones included) - cost of the open positions``, each position id is closed at most once, and no
open position has a closed trade; ``violations`` names each way they do not.
"""

from __future__ import annotations

from typing import Any

from trading.store.document import State


def equity(state: State) -> float:
    held = sum(float(p["qty"]) * float(p.get("current_price") or p["entry_price"]) for p in state["positions"].values())
    return float(state["cash"]) + held


def drawdown(state: State) -> float:
    start = float(state.get("starting_capital") or 0.0)
    return 0.0 if start <= 0 else max(0.0, 1.0 - equity(state) / start)


def open_position(state: State, position: dict[str, Any]) -> None:
    state["cash"] = float(state["cash"]) - float(position["qty"]) * float(position["entry_price"])
    state["positions"][position["symbol"]] = position


def close_position(state: State, symbol: str, price: float, reason: str, now: str) -> dict[str, Any]:
    """Sell the whole position at ``price``; credit cash and record the closed trade."""
    pos = state["positions"].pop(symbol)
    qty, entry = float(pos["qty"]), float(pos["entry_price"])
    state["cash"] = float(state["cash"]) + qty * price
    trade = {
        "position_id": pos["position_id"],
        "symbol": symbol,
        "qty": qty,
        "entry_price": entry,
        "exit_price": price,
        "pnl": qty * (price - entry),
        "reason": reason,
        "opened_at": pos.get("opened_at"),
        "closed_at": now,
    }
    state["closed_trades"].append(trade)
    return trade


def set_emergency_stop(state: State, reason: str | None, now: str | None) -> None:
    state["emergency_stop"] = {"active": reason is not None, "reason": reason, "at": now}


def emergency_active(state: State) -> bool:
    return bool((state.get("emergency_stop") or {}).get("active"))


def violations(state: State, trades: list[dict[str, Any]], tolerance: float = 1e-6) -> list[str]:
    """How the books fail to balance (empty when they do); ``trades`` is every closed trade ever."""
    found = []
    realised = sum(float(t.get("pnl") or 0.0) for t in trades)
    cost = sum(float(p["qty"]) * float(p["entry_price"]) for p in state["positions"].values())
    expected = float(state["starting_capital"]) + realised - cost
    if abs(float(state["cash"]) - expected) > tolerance * max(1.0, abs(expected)):
        found.append(f"cash {state['cash']!r} != starting capital + realised P&L - open cost = {expected!r}")
    ids = [t.get("position_id") for t in trades if t.get("position_id")]
    found += [f"position {pid} closed {ids.count(pid)} times" for pid in sorted(set(ids)) if ids.count(pid) > 1]
    closed = set(ids)
    found += [
        f"open position {p['position_id']} has a closed trade"
        for p in state["positions"].values()
        if p.get("position_id") in closed
    ]
    return found
