"""The trading rule, as pure decisions: what to open and close on this tick's prices.

Buy a dip below the symbol's moving average, in the traded symbols only; sell at the stop loss or
the take profit, in any symbol held.  After a stop-loss exit the symbol cools down for
``cooldown_ticks``.  Nothing trades while the emergency stop is active.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from trading.portfolio import emergency_active
from trading.store.document import State


@dataclass(frozen=True)
class Params:
    stop_loss_pct: float = 0.02
    take_profit_pct: float = 0.03
    entry_dip_pct: float = 0.004
    allocation: float = 0.1
    ema_alpha: float = 0.2
    cooldown_ticks: int = 20


@dataclass(frozen=True)
class Open:
    symbol: str
    qty: float
    price: float
    stop_loss: float
    take_profit: float


@dataclass(frozen=True)
class Close:
    symbol: str
    price: float
    reason: str


def update_averages(averages: dict[str, float], prices: dict[str, float], alpha: float) -> dict[str, float]:
    """Each priced symbol's average moved toward its price; a symbol not priced keeps its average."""
    moved = {s: p if s not in averages else averages[s] + alpha * (p - averages[s]) for s, p in prices.items()}
    return {**averages, **moved}


def exit_for(sym: str, pos: dict, price: float) -> Close | None:
    if pos.get("pending"):
        return None
    if pos.get("stop_loss") is not None and price <= float(pos["stop_loss"]):
        return Close(sym, price, "stop_loss")
    if pos.get("take_profit") is not None and price >= float(pos["take_profit"]):
        return Close(sym, price, "take_profit")
    return None


def exits(state: State, prices: dict[str, float]) -> list[Close]:
    found = [exit_for(sym, pos, prices[sym]) for sym, pos in sorted(state["positions"].items()) if sym in prices]
    return [close for close in found if close is not None]


def entries(
    state: State, prices: dict[str, float], averages: dict[str, float], tick: int, p: Params, traded: Collection[str]
) -> list[Open]:
    found = []
    budget = float(state["cash"]) * p.allocation
    for sym, price in sorted(prices.items()):
        cooling = int(state["sl_cooldowns"].get(sym, -1)) > tick
        if sym not in traded or sym in state["positions"] or cooling or sym not in averages or budget <= 0:
            continue
        if price <= averages[sym] * (1.0 - p.entry_dip_pct):
            sl, tp = price * (1 - p.stop_loss_pct), price * (1 + p.take_profit_pct)
            found.append(Open(sym, budget / price, price, round(sl, 8), round(tp, 8)))
    return found


def decide(
    state: State, prices: dict[str, float], averages: dict[str, float], tick: int, p: Params, traded: Collection[str]
) -> list[Open | Close]:
    """Closes first, then opens (of ``traded`` symbols); nothing at all while the emergency stop is active."""
    if emergency_active(state):
        return []
    return [*exits(state, prices), *entries(state, prices, averages, tick, p, traded)]


def recheck(action: Open | Close, state: State) -> Open | Close | None:
    """``action`` decided again on ``state`` as it is now (a save merged in the worker's changes since).

    A close is decided again on the position's levels now (none when the worker closed it); an open
    stands unless the symbol is held now or the emergency stop is on.
    """
    if isinstance(action, Close):
        pos = state["positions"].get(action.symbol)
        return None if pos is None else exit_for(action.symbol, pos, action.price)
    return None if action.symbol in state["positions"] or emergency_active(state) else action
