"""Volume-rebuild benchmark: figures, not assertions. `.venv/bin/python -m bench.bench_volume_rebuild [FILES] [MB]`

In a throw-away repository and compose project (removed at the end, also on failure) it
makes a legacy volume in the seed's layout of a realistic size (default about 2,000 files and
50 MB: code, old logs, the state files, `.env`), then times `--plan`, the full rebuild (with
the duration of each of its steps: inventory, backup, state, drift, record) and the re-run that
finds nothing to do, each as the operator runs it in-process.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from deploy import rebuild as rebuilding
from deploy.engine.git import Repository
from testsupport import legacy
from testsupport.sandbox import quiet, throwaway

ROOT = Path(__file__).resolve().parents[1]


def timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def main(files: int = 2000, megabytes: int = 50) -> None:
    with throwaway(ROOT, "tradebot-bench") as (box, base):
        eng, project = box.engine, box.settings.project
        content = legacy.files("bench-secret", bulk=files - 20, bulk_bytes=megabytes * 1_000_000)
        name = f"{project}-legacy"
        legacy.make(eng, base, name, content)
        size = sum(len(data) for data, _ in content.values()) / 1e6
        print(f"bench {project} on {os.cpu_count()} CPUs: legacy volume of {len(content)} files, {size:.0f} MB")
        repo = Repository(box.repo)
        plan = timed(lambda: rebuilding.show_plan(box.settings, eng, repo, name, say=quiet))
        steps: dict[str, float] = {}
        full = timed(lambda: steps.update(rebuilding.rebuild(box.settings, eng, repo, name, say=quiet).seconds))
        again = timed(lambda: rebuilding.rebuild(box.settings, eng, repo, name, say=quiet))
        print(f"  volume-rebuild --plan      {plan:6.2f} s")
        print(f"  volume-rebuild             {full:6.2f} s")
        for step, seconds in steps.items():
            print(f"    {step:<23}{seconds:6.2f} s")
        print(f"  volume-rebuild (no-op)     {again:6.2f} s")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
