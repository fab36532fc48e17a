"""Deploys under faults, through the operator's CLI against the real engine: each fault, what must still hold.

A release that hangs before its first tick is failed at the start deadline and the earlier release runs again.
"""

from __future__ import annotations

import pytest

from deploy import build
from deploy.git import Repository
from tests.integration.sandbox import Sandbox, quiet
from tests.integration.test_pipeline import rolled_back_to
from tests.integration.test_pipeline_errors import invoke

pytestmark = pytest.mark.usefixtures("fast_ticks")
HANG = "    def run(self, stop: StopSignal) -> None:\n"


def hung_bot(box: Sandbox) -> str:
    """Commit a release whose bot sleeps at the top of `Bot.run`: it starts, loads state and never ticks."""
    source = (box.repo / "trading/bot.py").read_text()
    assert HANG in source
    hung = source.replace(HANG, HANG + "        time.sleep(3600)\n")
    return box.commit("bot hangs before its first tick", {"trading/bot.py": hung})


def test_a_release_that_hangs_before_its_first_tick_is_rolled_back_at_the_start_deadline(sandbox: Sandbox) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    good = build.build(settings, engine, repo, say=quiet)
    assert invoke(sandbox, "deploy").returncode == 0
    hung = hung_bot(sandbox)

    result = invoke(sandbox, "build", "deploy", TRADEBOT_START_TIMEOUT="5")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "service bot is not healthy: no heartbeat of its own within 5s" in result.stderr
    rolled_back_to(sandbox, good.image_id, good.commit, hung)
