"""Deploys under faults, through the operator's CLI against the real engine: each fault, what must still hold.

A bad runtime setting, a commit without a compose file and a missing state volume are refused by the
preflight before anything stops; a rollback runs with the settings its release was deployed with.
When the rollback fails too, the error says what runs and how to put the untouched state backup back.
(A release that hangs before its first tick, rolled back at the start deadline: test_evidence.py.)
"""

from __future__ import annotations

import json

import pytest

from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.records import ledger
from deploy.steps import backups
from testsupport.cli import invoke, refused
from testsupport.sandbox import Sandbox, git, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")
PROJECT = "com.docker.compose.project="


def containers(box: Sandbox) -> dict[str, str]:
    """Service → container id of the project's running containers."""
    found = box.engine.containers.list(filters={"label": PROJECT + box.settings.project})
    return {c.labels["com.docker.compose.service"]: c.id for c in found}


def test_preflight_refuses_before_anything_stops_and_a_rollback_runs_with_its_recorded_settings(
    sandbox: Sandbox,
) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    good = build.build(settings, engine, repo, say=quiet)
    assert invoke(sandbox, "deploy").returncode == 0
    running = containers(sandbox)

    bad_setting = invoke(sandbox, "deploy", TRADEBOT_TICK_SECONDS="abc")
    said = refused(bad_setting, 10, "TRADEBOT_TICK_SECONDS='abc'", "nothing was stopped")
    # both standbys refuse it; the one the deploy saw end first is named (CI: the worker, once)
    assert "the settings of service bot" in said or "the settings of service worker" in said, said
    assert "check the runtime settings" not in bad_setting.stdout  # the standbys checked them (stage configured)
    (sandbox.repo / "docker-compose.yml").unlink()
    gone = sandbox.commit("no compose file")
    assert invoke(sandbox, "build").returncode == 0
    no_compose = invoke(sandbox, "deploy")
    assert refused(no_compose, 10, f"docker-compose.yml of {gone[:12]}", "has no docker-compose.yml")
    broken = sandbox.commit("a compose file that does not parse", {"docker-compose.yml": "services: [bot\n"})
    assert invoke(sandbox, "build").returncode == 0
    assert refused(invoke(sandbox, "deploy"), 10, f"docker-compose.yml of {broken[:12]}")
    assert containers(sandbox) == running  # nothing was stopped or recreated

    git(sandbox.repo, "revert", "--no-edit", "HEAD", "HEAD~1")
    second = sandbox.commit(
        "release two", {"trading/strategy.py": (sandbox.repo / "trading/strategy.py").read_text() + "# 2\n"}
    )
    assert invoke(sandbox, "build", "deploy", TRADEBOT_TICK_SECONDS="0.3").returncode == 0
    back = invoke(sandbox, "rollback", TRADEBOT_TICK_SECONDS="abc")
    assert back.returncode == 0, back.stdout + back.stderr
    assert "runs with the settings it was deployed with: TRADEBOT_TICK_SECONDS=0.2" in back.stdout
    bot = engine.containers.get(containers(sandbox)["bot"])
    assert "TRADEBOT_TICK_SECONDS=0.2" in bot.attrs["Config"]["Env"]
    assert ledger.read(settings, engine)[-1].commit == good.commit != second


def test_a_missing_state_volume_is_refused_naming_the_newest_backup_unless_fresh_state(sandbox: Sandbox) -> None:
    assert invoke(sandbox, "build", "deploy").returncode == 0
    assert invoke(sandbox, "deploy").returncode == 0  # the second deploy backs the state up
    newest = backups.newest_first(backups.listed(sandbox.settings, sandbox.engine))[0].name
    for container in sandbox.engine.containers.list(all=True, filters={"label": PROJECT + sandbox.settings.project}):
        container.remove(force=True)  # what `docker compose down -v` does to the deployment
    sandbox.engine.volumes.get(sandbox.settings.state_volume).remove()

    missing = invoke(sandbox, "deploy")
    assert refused(
        missing, 10, f"{sandbox.settings.state_volume} is missing", newest, "invoke restore", "--fresh-state"
    )
    assert not backups.exists(sandbox.engine, sandbox.settings.state_volume)
    assert invoke(sandbox, "deploy", "--fresh-state").returncode == 0


NEWER_STATE_MAIN = '''"""A release that moves the state to a schema version the earlier release refuses, then hangs."""

import hashlib
import json
import sys
import time
from pathlib import Path

from trading import stages
from trading.cli import main
from trading.store.document import compact

if __name__ == "__main__":
    if sys.argv[1:2] == ["bot"]:
        stages.begin("bot")
        path = Path("/var/lib/tradebot/live_portfolio.json")
        fields = json.loads(path.read_text())
        fields.pop("checksum")
        fields["version"] = 99
        fields["checksum"] = hashlib.sha256(compact(fields, allow_nan=False).encode()).hexdigest()
        path.write_text(json.dumps(fields))
        time.sleep(3600)
    sys.exit(main())
'''


def test_when_the_rollback_fails_too_the_message_says_what_runs_and_the_backup_is_untouched(sandbox: Sandbox) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    good = build.build(settings, engine, repo, say=quiet)
    assert invoke(sandbox, "deploy").returncode == 0
    broken = sandbox.commit("state schema 99, then hang", {"trading/__main__.py": NEWER_STATE_MAIN})

    # stop first: the broken bot writes the state as it starts, before any lock (a standby would be refused, and
    # the old bot never stopped); both starts are meant to fail
    result = invoke(sandbox, "build", "deploy", "--stop-first", TRADEBOT_START_STALL="5")
    assert result.returncode == 11, result.stdout + result.stderr  # not 7: nothing verified runs
    last = ledger.read(settings, engine)[-1]
    assert (last.commit, last.outcome, last.previous) == (broken, ledger.ROLLBACK_FAILED, good.commit)
    assert "bot made no progress" in last.cause and "rollback failed: bot" in last.cause
    error, hint = result.stderr.strip().splitlines()
    assert f"rolling back to {good.commit[:12]} failed too" in error and "nothing verified runs" in error
    assert f"now: bot of {good.commit[:12]} " in error and "restarted" in error
    assert f"invoke restore --backup {last.backup}" in hint
    state = json.loads(sandbox.in_volume(last.backup, "cat /v/live_portfolio.json"))
    assert state["version"] == 1  # the backup holds the state from before the deploy
