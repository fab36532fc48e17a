"""Property: whatever the worker does between a tick's saves, the bot loses none of it and never dies of it.

One bot tick on a real store, its prices scripted, over positions whose stops and take profits the
prices may hit; a real worker (real command bus, real handlers) runs the operator's commands right
before any of the tick's saves (the moment a slow save gives it).  After the tick: the bot is alive,
the books balance on disk, and every close the bot made respects the levels the worker's succeeded
commands left in force (a stop moved away is not hit by the old stop; a position the worker closed
is not closed again).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from trading import payloads, portfolio
from trading.bot import Bot
from trading.commandbus import CommandBus
from trading.config import Settings
from trading.store.holder import StateHolder
from trading.store.migrations import new_state
from trading.store.persistence import StateStore
from trading.worker import Worker

SYMBOLS = ("BTC", "ETH", "SOL")
PRICES = st.sampled_from([96.0, 96.5, 98.0, 100.0, 102.0, 103.5, 104.0])  # stop 97, take profit 103
LEVELS = {"update_stop_loss": [90.0, 95.0, 98.0, 101.0], "update_take_profit": [99.0, 103.2, 110.0]}
LEVEL_CHANGES = st.tuples(st.sampled_from(sorted(LEVELS)), st.sampled_from(SYMBOLS), st.integers(0, 3)).map(
    lambda t: (t[0], t[1], LEVELS[t[0]][t[2] % len(LEVELS[t[0]])])
)
CLOSES = st.tuples(st.just("close_position"), st.sampled_from(SYMBOLS), st.just(0.0))


def schedules(commands: st.SearchStrategy) -> st.SearchStrategy:
    """Commands, each with the number of the bot's save it runs right before."""
    return st.lists(st.tuples(st.integers(0, 3), commands), max_size=4)


class ScriptedFeed:
    def __init__(self, prices: dict[str, float]) -> None:
        self.prices = prices

    def step(self) -> dict[str, float]:
        return dict(self.prices)


class Operator:
    """The worker's side: commands submitted to a real bus and run by a real worker on the same state."""

    def __init__(self, directory: Path) -> None:
        config = Settings(state_dir=directory)
        self.bus, self.store = CommandBus(config.commands_db), StateStore(config.state_file)
        self.worker, self.done = Worker(config, self.bus, self.store), []

    def run(self, kind: str, sym: str, value: float) -> None:
        field = {"update_stop_loss": "stop_loss", "update_take_profit": "take_profit"}.get(kind)
        payload = {"symbol": sym, **({field: value} if field else {})}
        row = self.bus.enqueue(kind, payload, payloads.checksum(payload), f"k{time.time_ns()}", time.time() + 60)
        self.worker.step()
        if self.bus.get(row["id"])["status"] == "succeeded":
            self.done.append((kind, sym, value))

    def close(self) -> None:
        self.bus.close()
        self.store.close()


class RacedBot(Bot):
    """The real bot, with the operator's commands run right before its n-th save."""

    def __init__(self, *args, schedule: list, operator: Operator) -> None:
        super().__init__(*args)
        self.schedule, self.operator, self.saves = schedule, operator, 0

    def save(self, source: str, *, allow_abort: bool = False) -> bool | None:
        for when, command in self.schedule:
            if when == self.saves:
                self.operator.run(*command)
        self.saves += 1
        return super().save(source, allow_abort=allow_abort)


def opened(directory: Path, held: dict[str, float]) -> None:
    state = new_state(1000.0, "t0")
    state["ticks"] = 10
    for sym in held:
        pos = {"symbol": sym, "qty": 1.0, "entry_price": 100.0, "stop_loss": 97.0, "take_profit": 103.0}
        portfolio.open_position(state, {**pos, "current_price": 100.0, "position_id": f"{sym}-1", "opened_at": "t0"})
    with StateStore(directory / "live_portfolio.json") as store:
        store.initialize(state)


def in_force(done: list[tuple[str, str, float]], sym: str) -> tuple[float, float]:
    """The stop loss and take profit of ``sym`` after the operator's succeeded commands."""
    levels = {"update_stop_loss": 97.0, "update_take_profit": 103.0}
    for kind, target, value in done:
        if target == sym and kind in levels:
            levels[kind] = value
    return levels["update_stop_loss"], levels["update_take_profit"]


def broken_promises(state: dict, done: list[tuple[str, str, float]]) -> list[str]:
    found = []
    for trade in state["closed_trades"]:
        stop, take = in_force(done, trade["symbol"])
        if trade["reason"] == "stop_loss" and trade["exit_price"] > stop:
            found.append(f"{trade['symbol']} closed at {trade['exit_price']} by a stop loss; in force is {stop}")
        if trade["reason"] == "take_profit" and trade["exit_price"] < take:
            found.append(f"{trade['symbol']} closed at {trade['exit_price']} by a take profit; in force is {take}")
    return found


def raced_tick(prices: dict[str, float], schedule: list) -> tuple[dict, list]:
    """One tick of a bot holding every symbol, the schedule's commands run before its saves; the state on disk."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        opened(directory, dict.fromkeys(SYMBOLS, 100.0))
        operator = Operator(directory)
        with StateStore(directory / "live_portfolio.json") as store:
            bot = RacedBot(Settings(state_dir=directory), StateHolder(store), schedule=schedule, operator=operator)
            bot.feed = ScriptedFeed(prices)
            bot.tick()
            bot.save("final")
            state = json.loads(store.path.read_text())["state"]
        operator.close()
    return state, operator.done


TICK_PRICES = st.fixed_dictionaries({s: PRICES for s in SYMBOLS})


@settings(max_examples=100, deadline=None)
@given(prices=TICK_PRICES, schedule=schedules(LEVEL_CHANGES))
def test_a_level_the_worker_moves_between_a_ticks_saves_is_never_lost(prices, schedule):
    state, done = raced_tick(prices, schedule)
    assert broken_promises(state, done) == []
    assert portfolio.violations(state, state["closed_trades"]) == []


@settings(max_examples=100, deadline=None)
@given(prices=TICK_PRICES, schedule=schedules(st.one_of(CLOSES, LEVEL_CHANGES)))
def test_a_position_the_worker_closes_between_a_ticks_saves_is_closed_once_and_the_bot_lives(prices, schedule):
    state, done = raced_tick(prices, schedule)
    assert portfolio.violations(state, state["closed_trades"]) == []
    assert broken_promises(state, done) == []
