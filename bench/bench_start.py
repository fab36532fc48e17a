"""Start-judgement benchmark (#19): figures, not assertions. `.venv/bin/python -m bench.bench_start`

For each load level (`--levels`, default quiet, 10x and 30x the cores: `bench.load.Load` runs CPU
burners, engine churn and synced disk writes beside it), in one throw-away sandbox project (removed at
the end, also on failure), through the library a deploy calls:

- `--good` deploys of known-good code-only commits at the default settings (a standby handover);
- `--hung` releases whose bot hangs before its first tick: how long after the old bot stopped the deploy
  knew (the failed wait step), and how long until the old release ran again, verified (goal ≤ 20 s quiet);
- `--rollbacks` rollbacks to the release that ran before (`invoke rollback`).

One row per level: load | measured load average | good deploys | false failures (goal 0) |
hung: failed after min/med/max | hung: old release verified again after min/med/max | rollbacks failed (goal 0),
then the cause of every false failure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from pathlib import Path

from bench.bench_pipeline import code_only_commit
from bench.load import Load
from deploy.engine.git import Repository
from deploy.errors import RolledBack, TradebotError
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.procedures import rollback as rolling_back
from deploy.procedures.trail import Trail
from tests.integration.test_pipeline import hung_bot
from testsupport.sandbox import Sandbox, git, quiet, throwaway

ROOT = Path(__file__).resolve().parents[1]
TICK = "0.2"
STOP_STEP = "stop the old bot and worker"
WAIT_STEP = "wait until the new bot and worker run"


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}/{statistics.median(values):.1f}/{max(values):.1f} s" if values else "-"


def good(box: Sandbox, n: int, failures: list[str]) -> None:
    repo = Repository(box.repo)
    code_only_commit(box, n)
    build.build(box.settings, box.engine, repo, say=quiet)
    try:
        deploying.deploy(box.settings, box.engine, repo, say=quiet)
    except TradebotError as exc:
        failures.append(exc.message)


def hung(box: Sandbox, detected: list[float], back: list[float], misses: list[str]) -> None:
    """Deploy a hung release; when it took over: seconds to the failure and until the old release verified."""
    repo, trail = Repository(box.repo), Trail()
    hung_bot(box)
    build.build(box.settings, box.engine, repo, say=quiet)
    try:
        deploying.deploy(box.settings, box.engine, repo, say=quiet, trail=trail)
        misses.append("a hung release went live")
    except RolledBack:
        stop = next(s for s in trail.steps if s.name.startswith(STOP_STEP))
        wait = next(s for s in trail.steps if s.name.startswith(WAIT_STEP))
        end = max(s.started + s.seconds for s in trail.steps)
        detected.append(wait.seconds)
        back.append(end - stop.started)
    except TradebotError as exc:
        misses.append(exc.message)
    git(box.repo, "revert", "--no-edit", "HEAD")


def level(box: Sandbox, name: str, factor: int, args: argparse.Namespace, n: int) -> int:
    failures, misses, detected, back, rollbacks = list[str](), list[str](), list[float](), list[float](), []
    with Load(factor, box.engine, box.settings.base_image) if factor else contextlib.nullcontext() as load:
        time.sleep(args.settle if factor else 0)
        for _ in range(args.good):
            n += 1
            good(box, n, failures)
        for _ in range(args.hung):
            hung(box, detected, back, misses)
        for _ in range(args.rollbacks):
            try:
                rolling_back.rollback(box.settings, box.engine, Repository(box.repo), say=quiet)
            except TradebotError as exc:
                rollbacks.append(exc.message)
        avg = os.getloadavg()[0]
        churned = load.churned if load else 0
    print(
        f"{name:>5} | {avg:5.1f} | {args.good} | {len(failures)} | {spread(detected)} | {spread(back)} | "
        f"{len(rollbacks)} of {args.rollbacks} | churned {churned}, hung missed {len(misses)}",
        flush=True,
    )
    for why in failures + rollbacks + misses:
        print(f"        {why}")
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--good", type=int, default=12)
    parser.add_argument("--hung", type=int, default=3)
    parser.add_argument("--rollbacks", type=int, default=3)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds the load runs before the first deploy")
    parser.add_argument("--levels", default="quiet:0,10x:10,30x:30")
    args = parser.parse_args()
    os.environ["TRADEBOT_TICK_SECONDS"] = TICK
    print(f"{os.cpu_count()} cores; default settings (TRADEBOT_START_STALL=6, TRADEBOT_START_CAP=300)")
    print("load | loadavg | good | false failures | hung: failed after | hung: old verified again | rollbacks failed")
    with throwaway(ROOT, "bench-start-") as (box, _):
        build.build(box.settings, box.engine, Repository(box.repo), say=quiet)
        deploying.deploy(box.settings, box.engine, Repository(box.repo), say=quiet)
        n = 0
        for spec in args.levels.split(","):
            name, factor = spec.split(":")
            n = level(box, name, int(factor), args, n)


if __name__ == "__main__":
    main()
