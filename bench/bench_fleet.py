"""Fleet benchmark: figures, not assertions. `.venv/bin/python -m bench.bench_fleet` (as root: it starts engines)

Two private engines (`tests.integration.engines`: a dockerd each, with its own data root, bridge and
address pool, removed at the end) hold the members `near` (builds) and `far` (`build = false`: the image
near built is loaded), deployments of one throw-away repository. Measured through the operator's CLI,
a process per command: `fleet-release` of the two members, `fleet-status` (median of 3), `fleet-verify`,
and `fleet-status` while near's dockerd is frozen (`kill -STOP`, its `status_timeout` 5 s).
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.engines import copy_image, second_engine
from tests.integration.fleets import Seat, fleet_file, fleet_invoke, remove
from testsupport.sandbox import Sandbox, throwaway

ROOT = Path(__file__).resolve().parents[1]
FROZEN_TIMEOUT = 5
FAST = '[settings]\nTRADEBOT_TICK_SECONDS = "0.2"\nTRADEBOT_WORKER_POLL_SECONDS = "0.2"\n'


def timed(box: Sandbox, fleet: Path, *args: str) -> tuple[float, int, dict[str, Any]]:
    """Seconds, exit code and JSON document of one `invoke ARGS --json` against the fleet."""
    started = time.perf_counter()
    done, document = fleet_invoke(box, fleet, *args, "--json", timeout=1200)
    return time.perf_counter() - started, done.returncode, document


def frozen(pid: int, action: Callable[[], tuple[float, int, dict[str, Any]]]) -> tuple[float, int, dict[str, Any]]:
    os.kill(pid, signal.SIGSTOP)
    try:
        return action()
    finally:
        os.kill(pid, signal.SIGCONT)


def figures(box: Sandbox, fleet: Path, near_pid: int) -> list[tuple[str, str]]:
    release, code, report = timed(box, fleet, "fleet-release")
    assert code == 0, report
    each = ", ".join(f"{m['member']} {m['seconds']:.1f} s" for m in report["members"])
    status = [timed(box, fleet, "fleet-status")[0] for _ in range(3)]
    verify, code, _ = timed(box, fleet, "fleet-verify")
    stalled, code_frozen, said = frozen(near_pid, lambda: timed(box, fleet, "fleet-status"))
    near = said["members"][0]
    return [
        ("fleet-release, two members (build near, load into far, deploy each)", f"{release:.1f} s ({each})"),
        ("fleet-status, both answering (median of 3)", f"{statistics.median(status):.1f} s"),
        ("fleet-verify, both at once", f"{verify:.1f} s (exit {code})"),
        (
            f"fleet-status, near's dockerd frozen (its timeout {FROZEN_TIMEOUT} s)",
            f"{stalled:.1f} s (exit {code_frozen}; near killed after {near['seconds']} s: {near['unreachable']})",
        ),
    ]


def main() -> None:
    with throwaway(ROOT, "tradebot-fbench") as (box, base), second_engine(5) as a, second_engine(6) as b:
        for engine in (a, b):
            copy_image(box.engine, engine.client, base)
        project = box.settings.project
        seats = [
            Seat("near", f"{project}-near", a.address, a.client, f"status_timeout = {FROZEN_TIMEOUT}"),
            Seat("far", f"{project}-far", b.address, b.client, "build = false"),
        ]
        fleet = fleet_file(box.repo.parent / "fleet.toml", seats, FAST)
        print(f"bench fleet {project} on {os.cpu_count()} CPUs, two private engines\n")
        try:
            rows = figures(box, fleet, a.pid)
        finally:
            remove(box, seats)
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name.ljust(width)}  {figure}" for name, figure in rows))


if __name__ == "__main__":
    main()
