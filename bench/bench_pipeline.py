"""Pipeline benchmark: figures, not assertions. `.venv/bin/python -m bench.bench_pipeline`

In a throw-away repository and compose project (removed at the end, also on
failure) it measures: a cold build (a fresh base image id, so none of this
project's layers are cached) and a warm build of a code-only commit; the
redeploy of that commit (build + deploy, whose procedure includes health and
verify); verify alone; and the bot's downtime during the deploy (the gap between
the old bot's last heartbeat tick and the new bot's first, sampled from the
state volume by a read-only tap container), each beside a bare
`docker compose up -d --force-recreate` of the same services in the same run;
a restore of the newest state backup (its downtime is not sampled: the
heartbeat file is restored with the state); and the deploy of a release whose
bot hangs before its first tick, until the earlier release runs again, verified.

Then the CLI as operators run it, a process per command (`python -m invoke …`
from the checkout, imports included): `invoke build deploy verify` of another
code-only commit against the bare recreate (medians of 3), `invoke verify` and
`invoke status` (medians of 5), and `invoke --list` (invoke's own start, the floor
of every task). Each figure with a goal says whether this run met it.

Beside verify and status, their floors on this machine: a process that only imports
what the task imports (invoke, the Docker SDK, GitPython for verify), and one archive
read from the engine (status reads the ledger and the heartbeat that way, at the same time).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import docker

from deploy import verify
from deploy.config import Settings
from deploy.engine import client, compose
from deploy.engine.git import Repository
from deploy.errors import RolledBack
from deploy.procedures import build, restore
from deploy.procedures import deploy as deploying
from deploy.records import meta
from deploy.steps import health, heartbeats, startup
from testsupport.failing import hung_bot
from testsupport.sandbox import Sandbox, quiet, throwaway

ROOT = Path(__file__).resolve().parents[1]
PYCACHE = Path(tempfile.gettempdir()) / "tradebot-bench-pycache"  # the compiled modules of the commands timed

T = TypeVar("T")
TICK_SECONDS = "0.2"  # a fine tick, so the heartbeat gap measures the outage rather than the tick
TAP_INTERVAL = "0.05"


class Timeline:
    """A `say` that keeps each progress line with its offset: where a redeploy spends its time."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        if not message.startswith("  Step"):
            self.lines.append(f"  +{time.perf_counter() - self.start:5.2f} s  {message}")


def timed(action: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


@dataclass(frozen=True)
class Outage:
    downtime: float
    overlap: bool

    def __str__(self) -> str:
        return f"{self.downtime:.2f} s, overlap: {'YES' if self.overlap else 'no'}"


def outage(samples: list[dict], old_host: str) -> Outage:
    """Gap between the old bot's last tick and the new bot's first; overlap if the old ticked after it."""
    old = [s["last_tick_ts"] for s in samples if s.get("hostname") == old_host]
    new = [s["last_tick_ts"] for s in samples if s.get("hostname") not in (old_host, None)]
    if not old or not new:
        return Outage(float("nan"), False)
    return Outage(min(new) - max(old), max(old) > min(new))


class HeartbeatTap:
    """A container that prints the bot's heartbeat every 50 ms from the state volume, mounted read-only."""

    def __init__(self, engine: docker.DockerClient, settings: Settings, image: str) -> None:
        script = f"while :; do cat /state/heartbeat/bot.json 2>/dev/null; sleep {TAP_INTERVAL}; done"
        self.container = engine.containers.run(
            image,
            ["sh", "-c", script],
            name=f"{settings.project}-tap-{uuid.uuid4().hex[:6]}",
            volumes={settings.state_volume: {"bind": "/state", "mode": "ro"}},
            detach=True,
            network_disabled=True,
        )

    def stop(self) -> list[dict]:
        logs = self.container.logs().decode()
        self.container.remove(force=True, v=True)
        return [json.loads(line) for line in logs.splitlines() if line.startswith("{")]


def bot_host(settings: Settings, engine: docker.DockerClient) -> str:
    return str(health.service_container(settings, engine, "bot").attrs["Config"]["Hostname"])


def during(box: Sandbox, base: str, action: Callable[[], T]) -> tuple[float, T, Outage]:
    """Time `action` while tapping the bot's heartbeat; wait until the new bot has ticked a few times."""
    old_host = bot_host(box.settings, box.engine)
    tap = HeartbeatTap(box.engine, box.settings, base)
    time.sleep(0.5)
    seconds, result = timed(action)
    time.sleep(1.0)
    return seconds, result, outage(tap.stop(), old_host)


def bare_recreate(box: Sandbox) -> None:
    subprocess.run(
        compose.up(client.compose_argv(box.settings), box.settings, box.repo),  # the sandbox's checkout is its commit
        text=True,
        check=True,
        capture_output=True,
        env=compose.env(box.settings, os.environ),
    )


def fresh_base(engine_: docker.DockerClient, base: str, project: str) -> str:
    """The base image under a new image id (one label more): nothing built on it is cached."""
    dockerfile = f"FROM {base}\nLABEL io.tradebot.bench={project}\n".encode()
    image, _ = engine_.images.build(fileobj=io.BytesIO(dockerfile), tag=f"{project}:bench-base", rm=True, forcerm=True)
    return str(image.tags[0])


def code_only_commit(box: Sandbox, n: int) -> str:
    path = box.repo / "trading" / "strategy.py"
    return box.commit(f"code-only change {n}", {"trading/strategy.py": path.read_text() + f"\n# bench {n}\n"})


def run(box: Sandbox, base: str, timeline: Timeline) -> list[tuple[str, str, str]]:
    settings, eng, repo = box.settings, box.engine, Repository(box.repo)
    rows: list[tuple[str, str, str]] = []
    cold, _ = timed(lambda: build.build(settings, eng, repo, say=quiet))
    rows.append(("cold build (fresh base id)", f"{cold:.2f} s", ""))
    first, _ = timed(lambda: deploying.deploy(settings, eng, repo, say=quiet))
    rows.append(("first deploy (no earlier release)", f"{first:.2f} s", ""))
    code_only_commit(box, 1)

    def redeploy() -> tuple[float, float]:
        timeline.start = time.perf_counter()
        warm, _ = timed(lambda: build.build(settings, eng, repo, say=timeline))
        dep, _ = timed(lambda: deploying.deploy(settings, eng, repo, say=timeline))
        return warm, dep

    total, (warm, dep), deploy_outage = during(box, base, redeploy)
    rows.append(("warm build (code-only commit)", f"{warm:.2f} s", ""))
    rows.append(("deploy incl. backup, health, verify", f"{dep:.2f} s", ""))
    verify_times = [timed(lambda: verify.verify(settings, eng, repo))[0] for _ in range(5)]
    bare, _, bare_outage = during(box, base, lambda: bare_recreate(box))
    bare_healthy, _ = timed(lambda: startup.wait_release(settings, eng, eng.images.get(settings.live_image).id))
    rows += summary_rows(total, bare, bare + bare_healthy, verify_times, deploy_outage, bare_outage)
    back, _ = timed(lambda: restore.restore(settings, eng, repo, say=quiet))  # the heartbeat comes back with the state
    rows.append(("restore newest backup, until verified", f"{back:.2f} s", ""))
    rows += cli_rows(box)  # before the hung release: its commit stays HEAD
    hung_timeline = Timeline()
    hung, _ = timed(lambda: hung_deploy(box, hung_timeline))
    name = f"hung release rolled back (start stall {settings.start_stall:g} s)"
    rows.append((name, f"{hung:.2f} s", goal(hung, 20, "s")))
    return rows


def operator_env(box: Sandbox) -> dict[str, str]:
    """The environment of a command against the sandbox as an operator runs it: Python keeps the modules'
    compiled bytecode (here in `PYCACHE`, out of the checkout), as pip's install or a checkout's first run
    leaves it. A shell with PYTHONDONTWRITEBYTECODE set compiles every module of deploy/ again on every
    command (0.05 s here). The first call compiles them all."""
    env = {key: value for key, value in {**os.environ, **box.environ()}.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if not PYCACHE.is_dir():
        compiling = [sys.executable, "-m", "compileall", "-q", "deploy", "trading", "tasks.py"]
        subprocess.run(compiling, cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def invoke(box: Sandbox, *args: str) -> float:
    """Wall time of one `python -m invoke …` process against the sandbox, as an operator runs it."""
    env = operator_env(box)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def cli_rows(box: Sandbox) -> list[tuple[str, str, str]]:
    """The CLI a process per command: the line of a code-only commit against a bare recreate (medians of 3)."""
    lines, bares = [], []
    for n in (2, 3, 4):
        code_only_commit(box, n)
        lines.append(invoke(box, "build", "deploy", "verify"))
        bares.append(timed(lambda: bare_recreate(box))[0])
        startup.wait_release(box.settings, box.engine, box.engine.images.get(box.settings.live_image).id)
    line, bare = statistics.median(lines), statistics.median(bares)
    verifies = statistics.median(invoke(box, "verify") for _ in range(5))
    statuses = statistics.median(invoke(box, "status") for _ in range(5))
    floor = statistics.median(invoke(box, "--list") for _ in range(3))
    status_imports = statistics.median(imports("invoke", "deploy.steps.status") for _ in range(5))
    verify_imports = statistics.median(imports("invoke", "deploy.verify", "deploy.engine.git") for _ in range(5))
    archive = statistics.median(archive_read(box) for _ in range(5))
    rows = [
        ("invoke build deploy verify (median of 3)", f"{line:.2f} s", ""),
        ("bare compose up --force-recreate (median of 3)", f"{bare:.2f} s", ""),
        ("build deploy verify / bare recreate", f"{line / bare:.1f} x", goal(line / bare, 3, "x")),
        ("invoke verify (median of 5)", f"{verifies:.2f} s", goal(verifies, 0.5, "s")),
        ("invoke status (median of 5)", f"{statuses:.2f} s", goal(statuses, 0.3, "s")),
        ("invoke --list (invoke's own start, median of 3)", f"{floor:.2f} s", ""),
        ("floor of verify: a process importing what it imports", f"{verify_imports:.2f} s", ""),
        ("floor of status: its imports + one archive read", f"{status_imports + archive:.2f} s", ""),
        ("  of which one archive read from the engine (median of 5)", f"{archive:.3f} s", ""),
    ]
    return [(f"CLI: {name}", figure, target) for name, figure, target in rows]


def imports(*modules: str) -> float:
    """Wall time of a process that imports `modules` and does nothing else."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {', '.join(modules)}"], cwd=ROOT, check=True)
    return time.perf_counter() - start


def archive_read(box: Sandbox) -> float:
    """One `get_archive` of the running bot's heartbeat file: the engine's cost of any read of a file."""
    bot = health.service_container(box.settings, box.engine, "bot")
    assert bot is not None
    return timed(lambda: meta.fetch(bot, heartbeats.path("bot")))[0]


def goal(value: float, limit: float, unit: str) -> str:
    """The target column: the goal, and whether this run met it."""
    return f"<= {limit:g} {unit}: {'met' if value <= limit else 'NOT met'}"


def hung_deploy(box: Sandbox, timeline: Timeline) -> None:
    """Build and deploy a release whose bot sleeps before its first tick; it must be rolled back."""
    hung_bot(box)
    repo = Repository(box.repo)
    build.build(box.settings, box.engine, repo, say=quiet)
    try:
        deploying.deploy(box.settings, box.engine, repo, say=timeline)
    except RolledBack:
        print("the hung release's deploy, step by step:", *timeline.lines, sep="\n", end="\n\n")
        return
    raise SystemExit("the hung release was not rolled back")


def summary_rows(
    redeploy: float, bare: float, bare_healthy: float, verifies: list[float], dep: Outage, raw: Outage
) -> list[tuple[str, str, str]]:
    median, low, high = statistics.median(verifies), min(verifies), max(verifies)
    calm = "met" if dep.downtime <= 2 and not dep.overlap else "NOT met"
    return [
        ("redeploy: build + deploy + verify", f"{redeploy:.2f} s", goal(redeploy, 10, "s")),
        ("bare compose up --force-recreate", f"{bare:.2f} s", ""),
        ("bare recreate until healthy", f"{bare_healthy:.2f} s", ""),
        ("redeploy / bare recreate", f"{redeploy / bare:.1f} x", goal(redeploy / bare, 4, "x")),
        ("redeploy / bare recreate until healthy", f"{redeploy / bare_healthy:.1f} x", ""),
        ("verify alone (median of 5)", f"{median:.2f} s (min {low:.2f}, max {high:.2f})", goal(median, 1.5, "s")),
        ("bot downtime during deploy", str(dep), f"<= 2 s, no overlap: {calm}"),
        ("bot downtime during bare recreate", str(raw), ""),
    ]


def table(rows: list[tuple[str, str, str]]) -> str:
    header = ("measure", "figure", "goal")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows])


def main() -> None:
    os.environ["TRADEBOT_TICK_SECONDS"] = TICK_SECONDS
    with throwaway(ROOT, "tradebot-bench") as (box, base):
        project = box.settings.project
        box.settings = Settings(
            project=project,
            repo=box.repo,
            home=box.repo / ".tradebot",
            base_image=fresh_base(box.engine, base, project),
        )
        print(f"bench project {project} on {os.cpu_count()} CPUs, bot tick {TICK_SECONDS} s\n")
        timeline = Timeline()
        print(table(run(box, base, timeline)))
        print("\nthe redeploy, step by step:", *timeline.lines, sep="\n")


if __name__ == "__main__":
    main()
