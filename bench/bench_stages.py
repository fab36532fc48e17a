"""The start judgement on real bot processes under load: false failures of good starts, detection of hung ones.

For each load (quiet, then `bench.load.Load` at 10x and 30x the cores: CPU burners, two fsync writers,
engine churn when an engine is reachable), it starts bots as processes (`python -m trading bot`, a
fresh state each), watches each as a deploy would — a sample every 0.1 s of its newest stage line,
whether it still runs, and the whole process's CPU (a container's cgroup figure: the fallback before
the first stage line) — and judges it with `deploy.steps.liveness` at the default limits
(stall 6 s, cap 300 s). A hung bot is one whose state load sleeps for good (after `locked`).

Prints one row per load:

    load | loadavg | good starts | false failures (goal 0) | to running min/med/max | hung: failed after min/med/max

`--record DIR` keeps each watched sequence as JSON (the unit tests judge recorded ones).
Usage, from the repository root: .venv/bin/python -m bench.bench_stages [--good 4] [--hung 2] [--record DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import docker.errors

from bench.load import Load
from deploy.steps.liveness import FAILED, OK, Judgement, Limits, Sample, judge, parse_lines
from trading.codedigest import digest, package_root, tree_files

REPO = Path(__file__).resolve().parents[1]
CYCLE = 0.1
HUNG = """
import sys, time
from trading import cli
from trading.store import holder
holder.StateHolder.__init__ = lambda *args, **kwargs: time.sleep(1e9)
sys.exit(cli.main(["bot"]))
"""


def start(state: Path, log: Path, hung: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TRADEBOT_STATE_DIR": str(state)}
    argv = [sys.executable, "-c", HUNG] if hung else [sys.executable, "-m", "trading", "bot"]
    with log.open("wb") as err:
        return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO)


def process_cpu(pid: int) -> float | None:
    """The CPU seconds of the whole process: what the cgroup's figure is for a container."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample(proc: subprocess.Popen[bytes], log: Path, at: float) -> Sample:
    lines = parse_lines(log.read_bytes())
    newest = lines[-1] if lines else {}
    pulse = next((d for d in reversed(lines) if d.get("cpu") is not None), {})
    code = proc.poll()
    return Sample(
        at=at,
        status="running" if code is None else "exited",
        exit_code=code,
        stage=newest.get("stage"),
        release=newest.get("release"),
        cpu=pulse.get("cpu") if pulse.get("stage") == newest.get("stage") else None,
        run=pulse.get("run") if pulse.get("stage") == newest.get("stage") else None,
        engine_cpu=process_cpu(proc.pid) if code is None else None,
    )


def watch(hung: bool, limits: Limits, record: Path | None, name: str) -> tuple[Judgement, float]:
    """Start one bot and judge it until ok or failed; the judgement and the seconds it took."""
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as scratch:
        state, log = Path(scratch) / "state", Path(scratch) / "bot.log"
        state.mkdir()
        began, samples = time.monotonic(), []
        proc = start(state, log, hung)
        try:
            verdict = Judgement("waiting")
            while verdict.verdict not in (OK, FAILED):
                time.sleep(CYCLE)
                samples.append(sample(proc, log, round(time.monotonic() - began, 3)))
                verdict = judge(samples, limits, 0.0)
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL if hung else signal.SIGTERM)
            proc.wait(timeout=60)
        if record is not None:
            (record / f"{name}.json").write_text(json.dumps([dataclasses.asdict(s) for s in samples], indent=0))
        return verdict, samples[-1].at


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f}/{statistics.median(values):.1f}/{max(values):.1f} s"


def level(name: str, factor: int, args: argparse.Namespace, engine: docker.DockerClient | None) -> None:
    limits = Limits(goal="running", stall=6.0, cap=300.0, release=digest(tree_files(package_root())), name="bot")
    image = os.environ.get("TRADEBOT_BASE_IMAGE", "tradebot-base:bookworm")
    with Load(factor, engine, image) if factor else contextlib.nullcontext() as load:
        time.sleep(args.settle if factor else 0)
        good = [watch(False, limits, args.record, f"good-{name}-{n}") for n in range(args.good)]
        hung = [watch(True, limits, args.record, f"hung-{name}-{n}") for n in range(args.hung)]
        avg = os.getloadavg()[0]
        churned = load.churned if load else 0
    false = [j.why for j, _ in good if j.verdict != OK]
    print(
        f"{name:>5} | {avg:5.1f} | {len(good)} | {len(false)} | {spread([s for j, s in good if j.verdict == OK])} | "
        f"{spread([s for j, s in hung if j.verdict == FAILED])} (missed {sum(j.verdict != FAILED for j, _ in hung)})"
        f" | churned {churned}",
        flush=True,
    )
    for why in false:
        print(f"        false failure: {why}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--good", type=int, default=4)
    parser.add_argument("--hung", type=int, default=2)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds the load runs before the first start")
    parser.add_argument("--levels", default="quiet:0,10x:10,30x:30")
    parser.add_argument("--record", type=Path, default=None)
    args = parser.parse_args()
    if args.record:
        args.record.mkdir(parents=True, exist_ok=True)
    try:
        engine: docker.DockerClient | None = docker.from_env()
    except docker.errors.DockerException:
        engine = None
    print(f"{os.cpu_count()} cores; engine churn {'on' if engine else 'off (no engine)'}")
    print("load | loadavg | good starts | false failures | to running min/med/max | hung: failed after min/med/max")
    for spec in args.levels.split(","):
        name, factor = spec.split(":")
        level(name, int(factor), args, engine)


if __name__ == "__main__":
    main()
