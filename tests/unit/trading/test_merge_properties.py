"""Property: over any interleaving of bot and worker operations, the merge keeps the books.

A model of the two processes on one document, with the real merge in between: the worker
changes the disk (close, stop-loss and take-profit changes); the bot acts on its memory (opens
and closes through ``apply_action``, with cooldowns and loss counts), refreshes and saves through
``merge_states`` exactly as ``StateHolder`` does.  After every save and refresh: cash = starting
capital + realised P&L - open cost, one closed trade per position id, no open position with a
closed trade, and the loss count equals a replay of the bot's own surviving closes.
"""

from __future__ import annotations

import copy
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from trading import portfolio
from trading.bot import apply_action
from trading.store.merge import merge_states
from trading.store.migrations import new_state
from trading.strategy import Close, Open, Params

SYMBOLS = ("BTC", "ETH", "SOL")
PRICES = st.floats(min_value=1.0, max_value=500.0, allow_nan=False)
OPS = st.tuples(
    st.sampled_from(["bot_open", "bot_close", "bot_save", "bot_refresh", "w_close", "w_sl", "w_tp"]),
    st.sampled_from(SYMBOLS),
    PRICES,
)


class Model:
    def __init__(self) -> None:
        self.disk = new_state(10_000.0, "t0")
        self.disk["ticks"] = 0
        self.base, self.mine = copy.deepcopy(self.disk), copy.deepcopy(self.disk)
        self.clock = itertools.count(1)

    def now(self) -> str:
        return f"2026-01-01T00:00:{next(self.clock):06d}"

    def step(self, op: str, sym: str, price: float) -> None:
        getattr(self, op)(sym, price)

    def bot_open(self, sym: str, price: float) -> None:
        if sym not in self.mine["positions"]:
            apply_action(self.mine, Open(sym, 1.0, price, price * 0.9, price * 1.1), Params(), self.now())

    def bot_close(self, sym: str, price: float) -> None:
        if sym in self.mine["positions"]:
            reason = "stop_loss" if price < self.mine["positions"][sym]["entry_price"] else "take_profit"
            apply_action(self.mine, Close(sym, price, reason), Params(), self.now())

    def bot_save(self, _sym: str, _price: float) -> None:
        merged, _ = merge_states(self.base, self.mine, self.disk)
        self.disk, self.base, self.mine = merged, copy.deepcopy(merged), copy.deepcopy(merged)

    def bot_refresh(self, _sym: str, _price: float) -> None:
        merged, _ = merge_states(self.base, self.mine, self.disk)
        self.base, self.mine = copy.deepcopy(self.disk), merged

    def w_close(self, sym: str, price: float) -> None:
        if sym in self.disk["positions"]:
            portfolio.close_position(self.disk, sym, price, "command", self.now())

    def w_sl(self, sym: str, price: float) -> None:
        if sym in self.disk["positions"]:
            self.disk["positions"][sym]["stop_loss"] = price

    def w_tp(self, sym: str, price: float) -> None:
        if sym in self.disk["positions"]:
            self.disk["positions"][sym]["take_profit"] = price


def losses_in_a_row(trades: list[dict]) -> int:
    count = 0
    for trade in trades:
        if trade["reason"] != "command":
            count = count + 1 if trade["pnl"] < 0 else 0
    return count


@settings(max_examples=300, deadline=None)
@given(st.lists(OPS, max_size=40))
def test_any_interleaving_keeps_the_books(ops):
    model = Model()
    for op in ops:
        model.step(*op)
        if op[0] in ("bot_save", "bot_refresh"):
            for state in (model.disk, model.mine):
                assert portfolio.violations(state, state["closed_trades"]) == [], op
    model.bot_save("", 0.0)
    assert portfolio.violations(model.disk, model.disk["closed_trades"]) == []
    assert model.disk["repeat_loss_count"] == losses_in_a_row(model.disk["closed_trades"])
    times = [t["closed_at"] for t in model.disk["closed_trades"]]
    assert times == sorted(times)
