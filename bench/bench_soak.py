"""Soak bench: bot and worker stopped and killed over and over while commands keep arriving; figures, not assertions.

    .venv/bin/python -m bench.bench_soak [CYCLES]      (default 500; the goal: 0 lost over 500 cycles)

In a throw-away sandbox project (removed at the end, also on failure): build and deploy; start a
submitter container (the release image on the state volume) that enqueues an `apply_profile` dry run
every 50 ms and prints each committed id; then CYCLES times, bot and worker in turn: `docker stop`
then `docker start`, or `docker kill` (its restart policy brings it back; started by hand if it has
not come back within 2 s), and wait until it runs. Then stop submitting, let the worker drain the bus
and count, per committed command: succeeded with its result, failed (by code), not finished, missing.
Lost = missing + not finished + succeeded without a result (a command whose effect is neither
applied nor reported).  A command a killed worker held is claimed again after its lease: the
figures say how many were. State integrity: the state loads
(`python -m trading status --json`, generation not behind where it was) and the bus passes
`PRAGMA integrity_check`.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import docker
import docker.errors
from docker.models.containers import Container

from deploy.engine import execs
from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.steps import health, startup
from testsupport.sandbox import Sandbox, quiet, throwaway

ROOT = Path(__file__).resolve().parents[1]

SUBMIT = """
import sys, time
from pathlib import Path
from trading import payloads
from trading.commandbus import CommandBus
bus, n = CommandBus(Path("/var/lib/tradebot/commands.sqlite3")), 0
while True:
    n += 1
    payload = {"profile_id": f"p{n}", "version": n, "dry_run": True, "config_summary": {"n": n}}
    try:
        row = bus.enqueue("apply_profile", payload, payloads.checksum(payload), f"soak-{n}", time.time() + 3600)
    except Exception as exc:
        print(f"error {exc}", flush=True)
    else:
        print(row["id"], flush=True)
    time.sleep(0.05)
"""
DRAIN_SECONDS = 120 * 1.25 + 30  # a dead worker's command is claimed again within 1.25 leases (120 s)
CHECK = """
import json, sqlite3
db = sqlite3.connect("/var/lib/tradebot/commands.sqlite3")
rows = db.execute("SELECT id, status, result, error FROM commands").fetchall()
again = "SELECT event_type, COUNT(DISTINCT command_id) FROM command_audit_log WHERE event_type IN " \
    "('requeued', 'abandoned') GROUP BY event_type"
print(json.dumps({"integrity": db.execute("PRAGMA integrity_check").fetchone()[0], "rows": rows,
                  "again": dict(db.execute(again).fetchall())}))
"""


def cycle(box: Sandbox, service: str, kill: bool) -> None:
    container = health.service_container(box.settings, box.engine, service)
    assert container is not None
    if kill:
        container.kill()
    else:
        container.stop(timeout=30)
    deadline, give_up = time.monotonic() + 2.0, time.monotonic() + 60.0
    while not running(container):
        if time.monotonic() > give_up:
            raise TimeoutError(f"{service} is not running 60 s after it was {'killed' if kill else 'stopped'}")
        if time.monotonic() > deadline or not kill:
            with contextlib.suppress(docker.errors.APIError):  # the restart policy started it meanwhile
                container.start()
            deadline = time.monotonic() + 10.0
        time.sleep(0.05)


def running(container: Container) -> bool:
    container.reload()
    return container.status == "running"


def generation(bot: Container) -> int:
    found = execs.run(bot, ["python3", "-m", "trading", "status", "--json"])
    return int(json.loads(found.stdout)["generation"]) if found.exit_code == 0 else -1


def counts(committed: set[int], rows: list[list]) -> dict[str, int]:
    """Per committed command: what became of it (pure)."""
    by_id = {row[0]: row for row in rows}
    tally: collections.Counter[str] = collections.Counter()
    for cid in committed:
        row = by_id.get(cid)
        if row is None:
            tally["lost: missing"] += 1
        elif row[1] == "succeeded":
            tally["succeeded with its result" if row[2] else "lost: succeeded without a result"] += 1
        elif row[1] == "failed":
            tally[f"failed: {str(row[3]).split(':')[0]}"] += 1
        else:
            tally[f"lost: still {row[1]}"] += 1
    return dict(sorted(tally.items()))


def soak(box: Sandbox, cycles: int) -> list[tuple[str, str]]:
    settings, eng = box.settings, box.engine
    release_image = eng.images.get(settings.live_image).id
    submitter = eng.containers.run(
        release_image,
        entrypoint=["python3", "-c", SUBMIT],
        name=f"{settings.project}-submitter",
        volumes={settings.state_volume: {"bind": "/var/lib/tradebot"}},
        network_disabled=True,
        detach=True,
    )
    start_generation = generation(health.service_container(settings, eng, "bot"))
    started = time.monotonic()
    for n in range(cycles):
        cycle(box, ("bot", "worker")[n % 2], kill=(n // 2) % 2 == 1)
    soak_seconds = time.monotonic() - started
    submitter.stop(timeout=1)
    committed = {int(line) for line in submitter.logs().decode().split() if line.isdigit()}
    submitter.remove(force=True)
    startup.wait_release(settings, eng, release_image)
    drained = drain(box, committed)
    end_generation = generation(health.service_container(settings, eng, "bot"))
    rows = [("cycles (bot and worker in turn; stop+start, then kill)", str(cycles))]
    rows += [("soak time", f"{soak_seconds:.0f} s ({soak_seconds / max(cycles, 1):.2f} s per cycle)")]
    rows += [("commands committed while cycling", str(len(committed)))]
    rows += [(f"  {what}", str(n)) for what, n in counts(committed, drained["rows"]).items()]
    again = drained["again"]
    rows += [("  of these run again after their worker died in the handler", str(again.get("abandoned", 0)))]
    rows += [("  of these claimed again before their handler started", str(again.get("requeued", 0)))]
    rows += [("bus PRAGMA integrity_check", drained["integrity"])]
    rows += [("state generation before -> after", f"{start_generation} -> {end_generation}")]
    return rows


def drain(box: Sandbox, committed: set[int]) -> dict:
    """Wait until no committed command is pending; the bus's rows and integrity.

    A command a killed worker held is claimed again once its lease (120 s) ran out: wait that long.
    """
    worker = health.service_container(box.settings, box.engine, "worker")
    assert worker is not None
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        found = json.loads(execs.run(worker, ["python3", "-c", CHECK]).stdout)
        pending = [row for row in found["rows"] if row[0] in committed and row[1] not in ("succeeded", "failed")]
        if not pending or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def main() -> None:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    os.environ.update(TRADEBOT_TICK_SECONDS="0.2", TRADEBOT_WORKER_POLL_SECONDS="0.05")
    with throwaway(ROOT, "tradebot-soak") as (box, _):
        repo = Repository(box.repo)
        build.build(box.settings, box.engine, repo, say=quiet)
        deploying.deploy(box.settings, box.engine, repo, say=quiet)
        print(f"soak project {box.settings.project} on {os.cpu_count()} CPUs\n")
        for what, figure in soak(box, cycles):
            print(f"{what:<58} {figure}")


if __name__ == "__main__":
    main()
