"""The checkout's tasks: the operator's (`deploy/cli`, the same `tradebot` serves) and the developer's `test`.

`invoke --list` shows them; `invoke --help TASK` shows a task's options.
Settings come from the environment (docs/reference.md, `deploy/config.py`).
"""

from __future__ import annotations

import shlex
import sys

from invoke import Context, task

from deploy.cli import namespace


@task(
    help={
        "unit": "only the fast tests (no Docker engine, no multi-process runs)",
        "integration": "only the integration tests (real Docker engine and Compose)",
        "k": "pytest -k expression",
    }
)
def test(c: Context, unit: bool = False, integration: bool = False, k: str = "") -> None:
    """Run the test suite: unit, multi-process and integration tests against the real engine."""
    argv = [sys.executable, "-m", "pytest"]
    if unit:
        argv += ["-m", "not integration and not slow"]
    elif integration:
        argv += ["-m", "integration"]
    if k:
        argv += ["-k", k]
    c.run(shlex.join(argv), pty=False)


ns = namespace()
ns.add_task(test)
