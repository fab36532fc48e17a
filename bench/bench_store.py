"""Benchmark of the state store; prints figures.

1. Transaction p50/p99 beside the floor measured in the same run: json serialisation plus a
   bare atomic replace (temp, fsync, rename, fsync dir) of the same document in the same directory.
   Target: transaction p50 <= 1.5x floor p50.
2. Worker command latency (enqueue -> succeeded) while a bot ticks fast in another process.
   Target: p99 <= one save (p99) + 10 ms: the bot never holds the lock across a tick.
3. Two-process throughput: two processes doing transactions on one file.
4. Money races: rounds of a real worker closing and changing positions while a real bot's strategy
   acts on the same symbols (testsupport/races.py); after every round the books are checked on disk.
   Target: 0 violations.

Usage, from the repository root: .venv/bin/python -m bench.bench_store [--dir DIR] [--n N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testsupport.races import race
from testsupport.waiting import wait_for
from trading import payloads
from trading.commandbus import CommandBus
from trading.config import Settings
from trading.store.atomic import replace_file
from trading.store.migrations import new_state
from trading.store.persistence import StateStore

REPO = Path(__file__).resolve().parents[1]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def sample_state() -> dict:
    state = new_state(10_000.0, "2026-01-01T00:00:00+00:00")
    for i, sym in enumerate(("BTCUSDT", "ETHUSDT", "SOLUSDT")):
        state["positions"][sym] = {
            "symbol": sym,
            "qty": 0.1 * (i + 1),
            "entry_price": 100.0 + i,
            "stop_loss": 90.0,
            "take_profit": 110.0,
            "current_price": 101.0,
            "position_id": f"{sym}-{i}",
            "opened_at": "2026-01-01T00:00:00+00:00",
            "pending": False,
        }
    state["closed_trades"] = [{"position_id": f"t-{i}", "symbol": "BTCUSDT", "pnl": i * 0.5} for i in range(100)]
    return state


def timed_pairs(first, second, n: int) -> tuple[list[float], list[float]]:
    """Alternate the two so both see the same machine load."""
    a, b = [], []
    for _ in range(n):
        for fn, out in ((first, a), (second, b)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return a, b


def bench_transaction(directory: Path, n: int) -> dict[str, float]:
    store = StateStore(directory / "live_portfolio.json")
    store.initialize(sample_state())

    def transaction() -> None:
        with store.transaction() as s:
            s["cash"] += 1.0

    floor_target = directory / "floor.json"
    state = store.load().state
    floor, tx = timed_pairs(lambda: replace_file(floor_target, json.dumps(state).encode()), transaction, n)
    store.close()
    return {
        "floor_p50": pct(floor, 0.5),
        "floor_p99": pct(floor, 0.99),
        "tx_p50": pct(tx, 0.5),
        "tx_p99": pct(tx, 0.99),
    }


def bench_worker_latency(directory: Path, n: int) -> dict[str, float]:
    """Commands that run a store transaction while the bot saves every few milliseconds."""
    state = sample_state()
    state["positions"]["BTCUSDT"].update(stop_loss=1e-6, take_profit=1e12)
    with StateStore(directory / "live_portfolio.json") as store:
        store.initialize(state)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TRADEBOT_STATE_DIR": str(directory),
        "TRADEBOT_TICK_SECONDS": "0.005",
        "TRADEBOT_SAVE_SECONDS": "0.02",
        "TRADEBOT_WORKER_POLL_SECONDS": "0.001",
    }
    procs = [
        subprocess.Popen([sys.executable, "-m", "trading", role], env=env, stderr=subprocess.DEVNULL)
        for role in ("bot", "worker")
    ]
    try:
        files = (directory / "heartbeat" / "worker.json", directory / "live_portfolio.json")
        wait_for(lambda: all(path.exists() for path in files), 30, "the worker's heartbeat and the state")
        bus = CommandBus(directory / "commands.sqlite3")
        latencies = [submit_and_wait(bus, i) for i in range(n)]
        bus.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
    return {"cmd_p50": pct(latencies, 0.5), "cmd_p99": pct(latencies, 0.99)}


def submit_and_wait(bus: CommandBus, i: int) -> float:
    payload = {"symbol": "BTCUSDT", "take_profit": 1e12 + i}
    row = bus.enqueue(
        "update_take_profit", payload, payloads.checksum(payload), f"bench-{time.time_ns()}", time.time() + 60
    )
    start = time.perf_counter()
    row = wait_for(lambda: ended(bus, row["id"]), 30, f"the outcome of command {row['id']}", every=0.0005)
    assert row["status"] == "succeeded", row["error"]
    return time.perf_counter() - start


def ended(bus: CommandBus, command: int) -> dict | None:
    """The command's row once it succeeded or failed; None before."""
    row = bus.get(command)
    return row if row and row["status"] in ("succeeded", "failed") else None


def bench_two_processes(directory: Path, n: int) -> dict[str, float]:
    store = StateStore(directory / "live_portfolio.json")
    store.initialize(sample_state())
    code = (
        "import sys; from pathlib import Path; from trading.store.persistence import StateStore\n"
        "with StateStore(Path(sys.argv[1])) as s:\n"
        f"    for _ in range({n}):\n"
        "        with s.transaction() as st: st['cash'] += 1\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", code, str(store.path)], env=env) for _ in range(2)]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    elapsed = time.perf_counter() - start
    assert store.load().state["cash"] == 10_000.0 + 2 * n, "lost update"
    store.close()
    return {"two_proc_tx_per_s": 2 * n / elapsed}


def bench_races(directory: Path, n: int) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TRADEBOT_STATE_DIR": str(directory),
        "TRADEBOT_TICK_SECONDS": "0.005",
        "TRADEBOT_SAVE_SECONDS": "0.05",
        "TRADEBOT_WORKER_POLL_SECONDS": "0.002",
        "TRADEBOT_STARTING_CAPITAL": "1000",
    }
    procs = [
        subprocess.Popen([sys.executable, "-m", "trading", *args], env=env, stderr=subprocess.DEVNULL)
        for args in (("bot", "--fresh"), ("worker",))
    ]
    try:
        wait_for((directory / "live_portfolio.json").exists, 30, "the bot's first save")
        tally = race(Settings(state_dir=directory), n)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
    for line in tally.violations[:5]:
        print(f"violation: {line}", file=sys.stderr)
    return {"race_rounds": tally.rounds, "race_violations": len(tally.violations)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where to run (default: a temp dir under the repo)")
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.dir or REPO / "bench") as tmp:  # removed on failure too
        for name, fn, n in (
            ("transaction", bench_transaction, args.n),
            ("worker", bench_worker_latency, args.n // 5),
            ("two_processes", bench_two_processes, args.n),
            ("races", bench_races, args.n // 5),
        ):
            (Path(tmp) / name).mkdir()
            figures.update(fn(Path(tmp) / name, n))
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}, indent=2))
    ratio = figures["tx_p50"] / figures["floor_p50"]
    print(
        f"transaction p50 {figures['tx_p50']:.3f} ms = {ratio:.2f}x floor p50 {figures['floor_p50']:.3f} ms "
        f"(target <= 1.5x): {'OK' if ratio <= 1.5 else 'MISSED'}"
    )
    budget = figures["tx_p99"] + 10.0
    print(
        f"worker command p99 {figures['cmd_p99']:.3f} ms vs one save p99 + 10 ms = {budget:.3f} ms: "
        f"{'OK' if figures['cmd_p99'] <= budget else 'MISSED'}"
    )
    print(f"two-process throughput {figures['two_proc_tx_per_s']:.0f} transactions/s")
    rounds, bad = int(figures["race_rounds"]), int(figures["race_violations"])
    print(
        f"money races: {rounds} rounds of worker against bot, {bad} violations of cash = starting capital + "
        f"realised P&L - open cost, one trade per position, no open position with a trade: "
        f"{'OK' if bad == 0 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
