"""``python -m trading``: bot, worker, status, repair, submit, health, check-config; errors become exit codes here.

``status`` only reads; ``repair`` does what a bot or worker start does to a state it finds
(quarantine a corrupt primary and restore the newest valid backup, migrate a legacy document).

Exit codes:
    0  success (health: heartbeat fresh; submit: enqueued, and succeeded when waited for)
    1  unexpected error (a traceback is logged)
    2  bad usage
    3  state refused: no valid copy, newer schema than this code, or a save failed
    4  another bot (worker) holds the role's lock on this state, and --no-wait (worker: --once) says not to wait
    5  unhealthy (health)
    6  the state directory's mount does not honour flock between processes
    7  a submitted command failed
    8  submit --wait timed out before the command finished
    9  a TRADEBOT_* setting is malformed (every command checks them; ``check-config`` only that)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from trading import heartbeat, rolelock, stages
from trading.bot import Bot
from trading.codedigest import digest, package_root, tree_files
from trading.commandbus import CommandBus
from trading.config import Settings, from_env
from trading.errors import NoValidStateError, TradingError
from trading.health import check_health
from trading.portfolio import set_emergency_stop
from trading.signals import StopSignal
from trading.status import format_status, status_report
from trading.store.document import utcnow
from trading.store.holder import StateHolder
from trading.store.migrations import new_state
from trading.store.persistence import StateStore
from trading.submit import submit
from trading.worker import Worker

log = logging.getLogger("trading")
TIMED_OUT = 8


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trading", description="Paper-trading bot with crash-safe state.")
    sub = p.add_subparsers(dest="command", required=True)
    bot = sub.add_parser("bot", help="run the scan loop")
    bot.add_argument("--fresh", action="store_true", help="start a new state even though earlier copies exist")
    bot.add_argument("--clear-emergency-stop", action="store_true", help="clear a persisted emergency stop")
    bot.add_argument(
        "--no-wait", action="store_true", help="exit 4 when another bot holds the lock (default: stand by)"
    )
    worker = sub.add_parser("worker", help="run the command worker")
    worker.add_argument("--once", action="store_true", help="one poll, then exit (never waits for the lock)")
    worker.add_argument("--no-wait", action="store_true", help="exit 4 when another worker holds the lock")
    worker.add_argument("--max-iterations", type=int, default=None, metavar="N")
    status = sub.add_parser("status", help="print the state, heartbeats, counters and code digest (writes nothing)")
    status.add_argument("--json", action="store_true")
    sub.add_parser(
        "repair", help="quarantine a corrupt state and restore the newest valid backup; migrate a legacy one"
    )
    submit = sub.add_parser("submit", help="enqueue a command and print {id, status, result, error}")
    submit.add_argument("type")
    submit.add_argument("--payload", required=True, help="the payload as a JSON object")
    submit.add_argument("--wait", type=float, default=0.0, metavar="SECONDS")
    submit.add_argument("--expires-in", type=float, default=300.0, metavar="SECONDS")
    submit.add_argument("--idempotency-key", default=None)
    health = sub.add_parser("health", help="exit 0 only when the heartbeat is fresh")
    health.add_argument("--role", choices=("bot", "worker"), default=None)
    sub.add_parser("check-config", help="exit 0 only when every TRADEBOT_* setting is valid (starts nothing)")
    return p


def open_state(settings: Settings, fresh: bool) -> StateStore:
    store = StateStore(settings.state_file, settings_hash=settings.settings_hash())
    try:
        store.load()
    except NoValidStateError:
        store.initialize(new_state(settings.starting_capital, utcnow()), force=fresh)
    return store


def run_bot(settings: Settings, args: argparse.Namespace) -> int:
    reporter = stages.current() or stages.begin("bot")
    stop = StopSignal(on_stop=lambda: reporter.reach(stages.STOPPING))
    lock = rolelock.take(settings, "bot", stop, reporter, wait=not args.no_wait)
    if lock is None:
        reporter.stopped()  # stopped while standing by: nothing was touched
        return 0
    store = open_state(settings, args.fresh)
    if args.clear_emergency_stop:
        with store.transaction() as state:
            log.warning("clearing emergency stop (was %s)", state.get("emergency_stop"))
            set_emergency_stop(state, None, None)
    bot = Bot(settings, StateHolder(store))
    reporter.reach(stages.STATE_LOADED)
    bot.run(stop)
    reporter.stopped()
    rolelock.let_go(lock)
    return 0


def run_worker(settings: Settings, args: argparse.Namespace) -> int:
    reporter = stages.current() or stages.begin("worker")
    stop = StopSignal(on_stop=lambda: reporter.reach(stages.STOPPING))
    lock = rolelock.take(settings, "worker", stop, reporter, wait=not (args.no_wait or args.once))
    if lock is None:
        reporter.stopped()
        return 0
    store = StateStore(settings.state_file)
    worker = Worker(settings, CommandBus(settings.commands_db), store)
    reporter.reach(stages.STATE_LOADED)
    worker.run(stop, 1 if args.once else args.max_iterations)
    reporter.stopped()
    rolelock.let_go(lock)
    return 0


def run_status(settings: Settings, args: argparse.Namespace) -> int:
    report = status_report(settings)
    print(json.dumps(report, indent=2, sort_keys=True) if args.json else format_status(report))
    return 0


def run_repair(settings: Settings, _args: argparse.Namespace) -> int:
    with StateStore(settings.state_file, settings_hash=settings.settings_hash()) as store:
        doc = store.load()
        done = {"generation": doc.generation, **vars(store.counters)}
    print(json.dumps(done, sort_keys=True))
    return 0


def run_submit(settings: Settings, args: argparse.Namespace) -> int:
    out = submit(settings, args.type, args.payload, args.wait, args.expires_in, args.idempotency_key)
    print(json.dumps(out, sort_keys=True))
    if out["status"] == "failed":
        return 7
    return TIMED_OUT if args.wait and out["status"] != "succeeded" else 0


def run_check_config(settings: Settings, args: argparse.Namespace) -> int:
    print(f"settings valid: tick {settings.tick_seconds:g}s, symbols {','.join(settings.symbols)}")
    return 0


def run_health(settings: Settings, args: argparse.Namespace) -> int:
    print(check_health(settings, args.role or settings.role))
    return 0


COMMANDS = {
    "bot": run_bot,
    "worker": run_worker,
    "status": run_status,
    "repair": run_repair,
    "submit": run_submit,
    "health": run_health,
    "check-config": run_check_config,
}


def configure(role: str | None) -> Settings:
    """The settings; for a bot or worker also the stages `imported` (with the release) and `configured`,
    and from then on its own heartbeat file."""
    reporter = (stages.current() or stages.begin(role)) if role else None
    if reporter is not None:
        reporter.reach(stages.IMPORTED, release=release())
    settings = from_env(os.environ)
    if reporter is not None and role is not None:
        reporter.reach(stages.CONFIGURED)
        reporter.attach(heartbeat.stage_writer(settings.heartbeat_file(role), role))
    return settings


def release() -> str:
    """The digest of the code this process runs from (the image's `io.tradebot.code.digest`)."""
    return digest(tree_files(package_root()))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=stages.LOG_FORMAT)
    try:
        return COMMANDS[args.command](configure(stages.role_of([args.command])), args)
    except TradingError as exc:
        log.error("%s", exc)
        if args.command in ("health", "submit", "check-config"):
            print(exc)
        return exc.exit_code
