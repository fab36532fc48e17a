"""What a failed or half-recorded release leaves, on the real engine (#19): evidence, outcomes, records.

- A bot that crashes at start: its traceback is in the output, the ledger entry, the report and the JSON
  document before its container is removed; the failed image stays on the engine; it never stood by, so the
  running release never stopped: exit 10, `refused`.
- The deploy lock's container removed by hand while a deploy runs: the release is recorded all the same
  (through a helper of its own), and the next command does not undo it.
"""

from __future__ import annotations

import json

import pytest

from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.records import ledger
from deploy.steps import tags
from deploy.verify import verify
from tests.integration.test_pipeline_errors import invoke
from testsupport.sandbox import Sandbox, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")
CRASH_MAIN = '''"""A release whose bot crashes as it starts (its worker is fine)."""

import sys

from trading.cli import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["bot"]:
        raise RuntimeError("boom: the bot cannot start")
    sys.exit(main())
'''


def test_a_bot_that_crashes_at_start_leaves_its_traceback_everywhere_and_its_image(sandbox: Sandbox) -> None:
    assert invoke(sandbox, "release").returncode == 0
    good = tags.get(sandbox.engine, sandbox.settings.live_image)
    assert good is not None
    broken = sandbox.commit("bot crashes at start", {"trading/__main__.py": CRASH_MAIN})
    result = invoke(sandbox, "release", "--json")
    doc = json.loads(result.stdout)
    assert result.returncode == doc["exit_code"] == 10 and doc["outcome"] == ledger.REFUSED, result.stderr
    assert f"{good.commit[:12]} never stopped" in doc["error"]
    (bot,) = [kept for kept in doc["evidence"] if kept["service"] == "bot"]
    assert "RuntimeError: boom: the bot cannot start" in bot["lines"] and bot["lines"][0].startswith("Traceback")
    assert bot["exit_code"] == 1 or bot["restarts"] > 0, bot
    assert "RuntimeError: boom: the bot cannot start" in result.stderr  # said, and in the error's cause
    assert "bot exited" in doc["error"] and "RuntimeError: boom" in doc["error"] and doc["recorded"] is True

    entry = ledger.read(sandbox.settings, sandbox.engine)[-1]
    assert (entry.commit, entry.outcome) == (broken, ledger.REFUSED) and entry.evidence
    assert any("RuntimeError: boom" in line for kept in entry.evidence for line in kept["lines"])
    report = invoke(sandbox, "report", "--release", broken).stdout
    assert "## What the failed containers said" in report and "RuntimeError: boom: the bot cannot start" in report
    assert sandbox.engine.images.get(sandbox.settings.release_image(broken))  # kept until the next success
    assert verify(sandbox.settings, sandbox.engine, Repository(sandbox.repo)).release == good.commit


def test_a_lock_container_removed_by_hand_mid_deploy_still_records_the_release(sandbox: Sandbox) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    build.build(settings, engine, repo, say=quiet)
    deploying.deploy(settings, engine, repo, say=quiet)
    second = sandbox.commit(
        "release two", {"trading/strategy.py": (sandbox.repo / "trading/strategy.py").read_text() + "# 2\n"}
    )
    build.build(settings, engine, repo, say=quiet)

    def say(line: str) -> None:
        if line.startswith("deploy: wait until the new bot and worker run"):  # switched: the lock goes, by `docker rm`
            engine.containers.get(settings.lock_name).remove(force=True)

    deploying.deploy(settings, engine, repo, say=say)
    last = ledger.read(settings, engine)[-1]
    assert (last.commit, last.outcome) == (second, ledger.SUCCEEDED)
    deploying.deploy(settings, engine, repo, say=quiet)  # the next command: nothing to undo, the release stays
    entries = ledger.read(settings, engine)
    assert [e.commit for e in entries[-2:]] == [second, second] and all(e.outcome == "succeeded" for e in entries)
    assert verify(settings, engine, repo).release == second
