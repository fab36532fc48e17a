"""`invoke deploy` killed with SIGKILL at each step boundary, in a loop: nothing left behind blocks the next deploy.

After every kill the next `invoke deploy` must succeed (undoing the killed attempt first), and then what
runs, `:live` and the ledger agree (`invoke status` names no disagreement), no helper or probe container
is left, the backups stay within their limit and verify passes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from deploy import build, helpers, ledger, meta, volumes
from deploy.git import Repository
from deploy.testing.sandbox import Sandbox, quiet
from deploy.verify import verify
from tests.integration.test_pipeline_errors import ROOT, invoke

pytestmark = pytest.mark.usefixtures("fast_ticks")
KEEP_BACKUPS = "2"


def environ(box: Sandbox) -> dict[str, str]:
    settings = box.settings
    return {
        **os.environ, "PYTHONUNBUFFERED": "1", "TRADEBOT_KEEP_BACKUPS": KEEP_BACKUPS,
        "TRADEBOT_PROJECT": settings.project, "TRADEBOT_REPO": str(settings.repo),
        "TRADEBOT_HOME": str(settings.home), "TRADEBOT_BASE_IMAGE": settings.base_image or "",
    }  # fmt: skip


def kill_at_step(box: Sandbox, rev: str, step: int) -> bool:
    """Start `invoke deploy --rev REV`, SIGKILL it as its `step`-th step starts; False when it ended before."""
    argv = [sys.executable, "-m", "invoke", "deploy", "--rev", rev]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=environ(box), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    started = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("deploy: ") and line.rstrip().endswith(" …"):
            started += 1
            if started == step:
                os.kill(proc.pid, signal.SIGKILL)
                break
    proc.wait()
    return started == step


def left_helpers(box: Sandbox) -> list[str]:
    project = box.settings.project
    found = []
    for label in (helpers.HELPER_OF, meta.META_OF):
        found += [c.name for c in box.engine.containers.list(all=True, filters={"label": f"{label}={project}"})]
    return found


def test_a_deploy_killed_at_every_step_boundary_never_wedges_the_next(sandbox: Sandbox) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    first = build.build(settings, engine, repo, say=quiet).commit
    second = sandbox.commit(
        "release two", {"trading/strategy.py": (sandbox.repo / "trading/strategy.py").read_text() + "# 2\n"}
    )
    build.build(settings, engine, repo, say=quiet)
    assert invoke(sandbox, "deploy", "--rev", first).returncode == 0
    planned = invoke(sandbox, "deploy", "--plan", "--rev", second)
    steps = len(re.findall(r"^\s+\d+\. would ", planned.stdout, flags=re.MULTILINE))  # the plan's numbered steps
    assert steps >= 8, planned.stdout + planned.stderr
    for step in range(1, steps + 1):
        target = second if step % 2 else first
        assert kill_at_step(sandbox, target, step), f"the deploy ended before step {step}"
        after = invoke(sandbox, "deploy", "--rev", target, TRADEBOT_KEEP_BACKUPS=KEEP_BACKUPS)
        assert after.returncode == 0, f"after a kill at step {step}: {after.stdout}{after.stderr}"
        status = json.loads(invoke(sandbox, "status", "--json").stdout)
        assert status["disagreements"] == [] and status["release"]["commit"] == target, (step, status)
        assert left_helpers(sandbox) == [], step
        assert len(volumes.backups(settings, engine)) <= int(KEEP_BACKUPS), step
        assert verify(settings, engine, repo).ok, step
    assert ledger.unfinished(ledger.read_started(settings, engine), ledger.read(settings, engine)) == []
