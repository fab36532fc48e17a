"""Rounds of the worker acting on a position while the real bot's strategy acts on the same symbol.

Each round picks a position the bot holds and submits, back to back, commands that race the bot:
a stop loss or take profit moved past the price (the bot closes on its next tick, from memory)
followed by a worker close of the same position, or a close alone, or a level change alone.  When
the commands are done the books are checked on what is on disk (document + trade archive):
``trading.portfolio.violations``.  Used by the process test and by ``bench/bench_store.py``.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field

from trading import portfolio
from trading.commandbus import FINAL, CommandBus
from trading.config import Settings
from trading.store.archive import every_trade
from trading.submit import submit


@dataclass
class Tally:
    rounds: int = 0
    violations: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)


def on_disk(settings: Settings) -> tuple[dict, list[dict]]:
    """The document first, then the archive: a trim in between shows a trade twice, never not at all."""
    state = json.loads(settings.state_file.read_text())["state"]
    return state, every_trade(settings.state_dir / "trades", state)


def check(settings: Settings) -> list[str]:
    return portfolio.violations(*on_disk(settings))


def commands_for(kind: str, sym: str, pos: dict) -> list[tuple[str, dict]]:
    price, pid = float(pos["current_price"] or pos["entry_price"]), pos["position_id"]
    close = ("close_position", {"symbol": sym, "position_id": pid, "price": price})
    return {
        "stop_then_close": [("update_stop_loss", {"symbol": sym, "stop_loss": price * 1.01}), close],
        "take_then_close": [("update_take_profit", {"symbol": sym, "take_profit": price * 0.99}), close],
        "close": [close],
        "stop": [("update_stop_loss", {"symbol": sym, "stop_loss": price * 1.01})],
        "take": [("update_take_profit", {"symbol": sym, "take_profit": price * 0.99})],
    }[kind]


def run_round(settings: Settings, bus: CommandBus, rng: random.Random, tally: Tally) -> bool:
    """One round; False when the bot holds nothing yet (no round run)."""
    state, _ = on_disk(settings)
    if not state["positions"]:
        return False
    sym = rng.choice(sorted(state["positions"]))
    kind = rng.choice(["stop_then_close", "take_then_close", "close", "stop", "take"])
    ids = [
        submit(settings, t, json.dumps(p), 0.0, 60.0, None)["id"]
        for t, p in commands_for(kind, sym, state["positions"][sym])
    ]
    deadline = time.monotonic() + 60
    while any(bus.get(i)["status"] not in FINAL for i in ids) and time.monotonic() < deadline:
        time.sleep(0.005)
    for i in ids:
        row = bus.get(i)
        outcome = row["status"] if row["status"] != "failed" else row["error"].split(":")[0]
        tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + 1
    tally.rounds += 1
    tally.violations += [f"round {tally.rounds} ({kind} {sym}): {v}" for v in check(settings)]
    return True


def race(settings: Settings, rounds: int, seed: int = 11) -> Tally:
    """``rounds`` rounds against a running bot and worker on ``settings.state_dir``."""
    rng, tally, bus = random.Random(seed), Tally(), CommandBus(settings.commands_db)
    try:
        deadline = time.monotonic() + 30 * rounds
        while tally.rounds < rounds and time.monotonic() < deadline:
            if not run_round(settings, bus, rng, tally):
                time.sleep(0.01)
    finally:
        bus.close()
    return tally
