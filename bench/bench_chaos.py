"""Chaos bench: a real bot and two real workers on one state, commands of every type, kill -9 and SIGTERM
at random moments; figures, and the invariants checked after every round.

    .venv/bin/python -m bench.bench_chaos [--rounds N] [--seed S] [--dir DIR]

It starts as a deploy after a volume rebuild does: on the seed's legacy state (``testsupport.legacy
.TAKEOVER``: stops set, a position outside the traded symbols), fast ticks, a short command lease.
Each round submits, for one held position, a stop-loss and a take-profit change (past the price or
not), sometimes a close, the two dry runs (``apply_profile`` and the seed's ``apply_profile_testnet``),
a resubmission under an existing idempotency key and a poison payload straight into the bus; at a
random moment it kills the bot or a worker (SIGKILL or SIGTERM) and starts it again.  When every
command has its outcome, on disk: the books balance, no trade seen before is gone, generations only
went up, every command has exactly one outcome, every close the bot made respects the levels the
round's succeeded commands set, no legacy position was closed far from its legacy mark; and no
process died of itself (a traceback in its log).  Exits 1 when any invariant broke.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from testsupport.legacy import TAKEOVER
from testsupport.races import on_disk
from trading import portfolio
from trading.commandbus import FINAL, CommandBus
from trading.config import Settings
from trading.store.merge import trade_key
from trading.submit import submit

REPO = Path(__file__).resolve().parents[1]
ROLES = ("bot", "worker-a", "worker-b")
ENV = {
    "TRADEBOT_TICK_SECONDS": "0.01",
    "TRADEBOT_SAVE_SECONDS": "0.2",
    "TRADEBOT_WORKER_POLL_SECONDS": "0.005",
    "TRADEBOT_COMMAND_LEASE_SECONDS": "1.5",
}
LEGACY_GAP = 0.25  # a legacy position closed further than this from its legacy mark: a made-up price


@dataclass
class Figures:
    rounds: int = 0
    resubmitted: int = 0  # under an existing idempotency key: the same command again, not a new one
    commands: collections.Counter = field(default_factory=collections.Counter)
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    kills: collections.Counter = field(default_factory=collections.Counter)
    violations: list[str] = field(default_factory=list)


class Processes:
    """Bot and workers as real processes, each logging to ``<role>.log`` in the state dir."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.procs = settings, {}
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "TRADEBOT_STATE_DIR": str(settings.state_dir), **ENV}

    def start(self, role: str) -> None:
        with (self.settings.state_dir / f"{role}.log").open("ab") as log:
            argv = [sys.executable, "-m", "trading", role.split("-")[0]]
            self.procs[role] = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=log)

    def kill(self, role: str, signum: int) -> None:
        self.procs[role].send_signal(signum)
        self.procs[role].wait(timeout=30)
        self.start(role)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            proc.wait(timeout=30)

    def tracebacks(self) -> dict[str, int]:
        return {role: (self.settings.state_dir / f"{role}.log").read_text().count("Traceback") for role in ROLES}


def round_commands(rng: random.Random, sym: str, pos: dict) -> list[tuple[str, dict]]:
    """What the operator sends about one held position this round (pure but for ``rng``)."""
    mark, pid = float(pos.get("current_price") or pos["entry_price"]), pos["position_id"]
    stop, take = mark * rng.choice([0.97, 0.99, 1.01]), mark * rng.choice([0.99, 1.01, 1.03])
    sent = [
        ("update_stop_loss", {"symbol": sym, "stop_loss": round(stop, 8), "position_id": pid}),
        ("update_take_profit", {"symbol": sym, "take_profit": round(take, 8), "position_id": pid}),
        ("apply_profile", {"profile_id": "chaos", "version": rng.randint(1, 9), "dry_run": True}),
        ("apply_profile_testnet", {"profile_id": "chaos", "profile_version": 1, "dry_run": True}),
    ]
    if rng.random() < 0.3:
        sent.append(
            ("close_position", {"symbol": sym, "position_id": pid, **({"price": mark} if rng.random() < 0.5 else {})})
        )
    rng.shuffle(sent)
    return sent


def send(settings: Settings, bus: CommandBus, sent: list[tuple[str, dict]], rng: random.Random) -> list[int]:
    keys = [f"chaos-{time.time_ns()}-{i}" for i in range(len(sent))]
    ids = [
        submit(settings, kind, json.dumps(p), 0.0, 300.0, key)["id"] for (kind, p), key in zip(sent, keys, strict=True)
    ]
    again = rng.randrange(len(sent))  # the same key again: the same command, not a new one
    assert submit(settings, sent[again][0], json.dumps(sent[again][1]), 0.0, 300.0, keys[again])["id"] == ids[again]
    poison = bus.conn.execute(
        "INSERT INTO commands (type, payload, checksum, idempotency_key, created_at, expires_at) "
        'VALUES (\'update_stop_loss\', \'{"symbol": "BTCUSDT", "stop_loss": NaN}\', ?, ?, ?, ?) RETURNING id',
        ("0" * 64, f"poison-{time.time_ns()}", time.time(), time.time() + 300),
    ).fetchone()[0]
    return [*ids, poison]


def finished(bus: CommandBus, ids: list[int], seconds: float = 60.0) -> list[dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(bus.get(i)["status"] not in FINAL for i in ids):
        time.sleep(0.01)
    return [bus.get(i) for i in ids]


@dataclass
class Seen:
    """What the rounds so far left on disk, and the levels the operator's succeeded commands set."""

    generation: int = 0
    trades: set[str] = field(default_factory=set)
    levels: dict[str, dict[str, float]] = field(default_factory=dict)


FIELDS = {"update_stop_loss": "stop_loss", "update_take_profit": "take_profit"}
MARKS = {f"legacy-{sym}": pos["current_price"] for sym, pos in TAKEOVER["positions"].items()}


def set_levels(seen: Seen, sent: list[tuple[str, dict]], rows: list[dict]) -> None:
    for (kind, payload), row in zip(sent, rows, strict=False):
        if kind in FIELDS and row["status"] == "succeeded":
            seen.levels.setdefault(payload["position_id"], {})[FIELDS[kind]] = payload[FIELDS[kind]]


def broken_levels(trades: list[dict], levels: dict[str, dict[str, float]]) -> list[str]:
    """Closes the bot made on a level other than the one the operator's last succeeded command set."""
    found = []
    for trade in trades:
        level = levels.get(trade.get("position_id"), {})
        stop, take, price, reason = (
            level.get("stop_loss"),
            level.get("take_profit"),
            trade["exit_price"],
            trade["reason"],
        )
        if (reason == "stop_loss" and stop is not None and price > stop) or (
            reason == "take_profit" and take is not None and price < take
        ):
            found.append(f"{trade['position_id']} closed at {price} ({trade['reason']}); the operator set {level}")
    return found


def made_up(trades: list[dict]) -> list[str]:
    """Legacy positions closed far from their legacy mark (a price the feed invented)."""
    found = []
    for trade in trades:
        pid, price = str(trade.get("position_id")), trade["exit_price"]
        mark = next((m for prefix, m in MARKS.items() if pid.startswith(prefix)), None)
        if mark is not None and abs(price / mark - 1) > LEGACY_GAP:
            found.append(f"{pid} closed at {price}, {abs(price / mark - 1):.0%} from its legacy mark {mark}")
    return found


def one_outcome(bus: CommandBus, rows: list[dict]) -> list[str]:
    found = [f"command {r['id']} ({r['type']}) is still {r['status']}" for r in rows if r["status"] not in FINAL]
    written = {r["id"]: bus.audit_events(r["id"]).count("result_written") for r in rows}
    return found + [f"command {cid} has {n} outcomes" for cid, n in written.items() if n != 1]


def judge(settings: Settings, bus: CommandBus, rows: list[dict], seen: Seen) -> list[str]:
    """Every invariant on what is on disk after a round; ``seen`` moves on to it."""
    generation = json.loads(settings.state_file.read_text())["generation"]
    state, trades = on_disk(settings)
    keys = {trade_key(t): t for t in trades}
    new = [t for key, t in keys.items() if key not in seen.trades]
    found = portfolio.violations(state, trades) + one_outcome(bus, rows)
    found += [f"trade {key} is gone" for key in seen.trades - keys.keys()]
    found += [f"generation {generation} after {seen.generation}"] if generation < seen.generation else []
    by_bot = [t for t in new if t.get("reason") in ("stop_loss", "take_profit")]
    found += broken_levels(by_bot, seen.levels) + made_up(by_bot)
    seen.generation, seen.trades = generation, set(keys)
    return found


def outcome(row: dict) -> str:
    if row["status"] == "failed":
        return row["error"].split(":")[0]
    return "succeeded (replayed)" if json.loads(row["result"] or "{}").get("replayed") else row["status"]


def chaos_round(
    settings: Settings, procs: Processes, bus: CommandBus, rng: random.Random, f: Figures, seen: Seen
) -> None:
    held = on_disk(settings)[0]["positions"]
    if not held:
        time.sleep(0.05)  # the bot closed everything: it opens again on a dip
        return
    sym = rng.choice(sorted(held))
    sent = round_commands(rng, sym, held[sym])
    ids = send(settings, bus, sent, rng)
    f.commands.update([kind for kind, _ in sent] + ["poison (into the bus)"])
    f.resubmitted += 1
    strike(procs, rng, f)
    rows = finished(bus, ids)
    f.outcomes.update(outcome(row) for row in rows)
    set_levels(seen, sent, rows)
    f.rounds += 1
    f.violations += [f"round {f.rounds}: {v}" for v in judge(settings, bus, rows, seen) + revived(procs)]


def strike(procs: Processes, rng: random.Random, f: Figures) -> None:
    """Most rounds: at a random moment, kill the bot or a worker (SIGKILL or SIGTERM) and start it again."""
    if rng.random() < 0.7:
        time.sleep(rng.uniform(0.0, 0.3))
        role, signum = rng.choice(ROLES), rng.choice([signal.SIGKILL, signal.SIGTERM])
        procs.kill(role, signum)
        f.kills[f"{role} {signal.Signals(signum).name}"] += 1


def revived(procs: Processes) -> list[str]:
    """Processes that ended by themselves, started again: each is a violation."""
    dead = {role: proc.returncode for role, proc in procs.procs.items() if proc.poll() is not None}
    for role in dead:
        procs.start(role)
    return [f"{role} exited by itself ({code})" for role, code in dead.items()]


def chaos(directory: Path, rounds: int, rng: random.Random) -> Figures:
    settings, figures, seen = Settings(state_dir=directory), Figures(), Seen()
    settings.state_file.write_text(json.dumps(TAKEOVER))
    procs = Processes(settings)
    for role in ROLES:
        procs.start(role)
    bus = CommandBus(settings.commands_db)
    try:
        while not settings.heartbeat_file("bot").exists():
            time.sleep(0.01)
        while figures.rounds < rounds:
            chaos_round(settings, procs, bus, rng, figures, seen)
    finally:
        bus.close()
        procs.stop()
    figures.violations += [f"{role}: {n} tracebacks in its log" for role, n in procs.tracebacks().items() if n]
    return figures


def report(f: Figures, seconds: float) -> str:
    lines = [f"rounds {f.rounds} in {seconds:.0f} s on {os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f})"]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(f.commands.items()))
    lines += [f"commands {sum(f.commands.values())} ({kinds}); {f.resubmitted} resubmitted under their key"]
    lines += ["outcomes: " + ", ".join(f"{k} {n}" for k, n in sorted(f.outcomes.items()))]
    lines += [f"kills {sum(f.kills.values())}: " + ", ".join(f"{k} {n}" for k, n in sorted(f.kills.items()))]
    lines += [f"invariant violations {len(f.violations)}"] + [f"  {v}" for v in f.violations[:20]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None, help="where to run (default: a temp dir under bench/)")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chaos-", dir=args.dir or REPO / "bench") as tmp:  # removed on failure too
        figures = chaos(Path(tmp), args.rounds, random.Random(args.seed))
    print(report(figures, time.monotonic() - started))
    sys.exit(1 if figures.violations else 0)


if __name__ == "__main__":
    main()
