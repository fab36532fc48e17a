"""Rounds of the worker acting on a position while the real bot's strategy acts on the same symbol.

Each round picks a position the bot holds and submits, back to back, commands that race the bot:
a stop loss or take profit moved past the price (the bot closes on its next tick, from memory)
followed by a worker close of the same position, or a close alone, or a level change alone.  When
the commands are done the books are checked on what is on disk (document + trade archive):
``trading.portfolio.violations``.  Used by the process test and by ``bench/bench_store.py``.

``tick_races``: attempts at the window inside one tick.  The bot holds pairs of positions outside
its traded symbols, priced from a file (``TRADEBOT_FEED=file:``), and its saves are slowed
(``python -m testsupport.races DELAY`` runs it so: each save first touches ``saving`` in the state
dir, then waits).  Each attempt drops both of a pair below their stop, so one tick decides to close
both; once the bot is in the save after its first close, the worker moves the second's stop out of
reach (or closes it).  An attempt is lost when the command succeeded and the bot still closed the
second position by its old stop; the bot must live through every attempt.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from trading import cli, portfolio
from trading.commandbus import FINAL, CommandBus
from trading.config import Settings
from trading.store.archive import every_trade
from trading.store.holder import StateHolder
from trading.store.migrations import new_state
from trading.store.persistence import StateStore
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


@dataclass
class TickRaces:
    attempts: int = 0
    lost: list[str] = field(default_factory=list)
    redecided: int = 0  # closes the bot decided again on a state a save merged (from its log)
    bot_exit: int | None = None


def pairs_state(pairs: int) -> dict:
    """A state holding ``pairs`` pairs of positions ``A<i>``/``B<i>`` at 100, stop 97, take profit 103."""
    state = new_state(1000.0 * pairs, "t0")
    for i in range(pairs):
        for sym in (f"A{i:04d}", f"B{i:04d}"):
            pos = {"symbol": sym, "qty": 1.0, "entry_price": 100.0, "stop_loss": 97.0, "take_profit": 103.0}
            portfolio.open_position(state, {**pos, "current_price": 100.0, "position_id": f"{sym}-1"})
    return state


def write_prices(path: Path, prices: dict[str, float]) -> None:
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(prices))
    os.replace(temp, path)


def start_bot(settings: Settings, delay: float, env: dict[str, str], log: Path) -> subprocess.Popen:
    feed = {"TRADEBOT_FEED": f"file:{settings.state_dir / 'prices.json'}", "TRADEBOT_SYMBOLS": "NONE"}
    with log.open("ab") as out:
        argv = [sys.executable, "-m", "testsupport.races", str(delay)]
        return subprocess.Popen(argv, env={**env, **feed}, stdout=subprocess.DEVNULL, stderr=out)


def waited(check: Callable[[], object], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {seconds:.0f}s")
        time.sleep(0.002)


def ticks(settings: Settings) -> int:
    try:
        return int(json.loads(settings.heartbeat_file("bot").read_text())["ticks"])
    except (FileNotFoundError, ValueError, KeyError):
        return -1


def attempt(settings: Settings, bus: CommandBus, i: int, prices: dict[str, float], tally: TickRaces) -> None:
    a, b, saving = f"A{i:04d}", f"B{i:04d}", settings.state_dir / "saving"
    saving.unlink(missing_ok=True)
    prices.update({a: 96.0, b: 96.0})
    write_prices(settings.state_dir / "prices.json", prices)
    waited(saving.exists, f"save of the bot's close of {a}")
    moved = ("update_stop_loss", {"symbol": b, "stop_loss": 90.0})
    kind, payload = moved if i % 2 else ("close_position", {"symbol": b})
    cid = submit(settings, kind, json.dumps(payload), 0.0, 60.0, None)["id"]
    waited(lambda: bus.get(cid)["status"] in FINAL, f"outcome of command {cid}")
    after = ticks(settings)
    waited(lambda: ticks(settings) > after + 1, "end of the tick")
    closes = [t for t in on_disk(settings)[1] if t["symbol"] == b and t["reason"] == "stop_loss"]
    if bus.get(cid)["status"] == "succeeded" and closes:
        tally.lost.append(f"attempt {i}: {kind} of {b} succeeded, yet the bot closed it at {closes[0]['exit_price']}")
    tally.attempts += 1


def tick_races(settings: Settings, attempts: int, delay: float, env: dict[str, str]) -> TickRaces:
    """``attempts`` attempts against a bot (started here, saves slowed by ``delay`` s) and a running worker."""
    prices = pairs_ready(settings, attempts)
    log, tally, bus = settings.state_dir / "bot.log", TickRaces(), CommandBus(settings.commands_db)
    bot = start_bot(settings, delay, env, log)
    try:
        for i in range(attempts):
            try:
                attempt(settings, bus, i, prices, tally)
            except TimeoutError:
                if bot.poll() is None:
                    raise
                break  # the bot died: its exit code says how
    finally:
        bus.close()
        bot.terminate()
        tally.bot_exit = bot.wait(timeout=30)
    tally.redecided = log.read_text().count("the state as saved since says")
    return tally


def pairs_ready(settings: Settings, attempts: int) -> dict[str, float]:
    """The state with the attempts' pairs of positions, and their prices (all at 100) in the feed's file."""
    with StateStore(settings.state_file) as store:
        store.initialize(pairs_state(attempts))
    prices = {sym: 100.0 for i in range(attempts) for sym in (f"A{i:04d}", f"B{i:04d}")}
    write_prices(settings.state_dir / "prices.json", prices)
    return prices


def slowed_bot(delay: float) -> int:
    """``python -m trading bot`` whose every save first touches ``saving`` and waits ``delay`` seconds (a slow disk)."""
    real, saving = StateHolder.save, Path(os.environ["TRADEBOT_STATE_DIR"]) / "saving"

    def slow(holder: StateHolder, *args: object, **kwargs: object) -> bool:
        saving.touch()
        time.sleep(delay)
        return real(holder, *args, **kwargs)  # type: ignore[arg-type]

    StateHolder.save = slow  # type: ignore[method-assign]
    return cli.main(["bot"])


if __name__ == "__main__":
    sys.exit(slowed_bot(float(sys.argv[1])))
