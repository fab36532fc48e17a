"""The evidence a release leaves, through the operator's CLI: one JSON document, a report; plans that change nothing.

Each test releases its own sandbox project with `invoke`, as CI's release job does; the plans test and the
rollback-and-restore test share one project released twice (`two_released`): the plans prove they change
nothing, and the rollback and restore need no more than two releases, whichever runs first.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy.procedures import report as reports
from deploy.records import ledger
from testsupport.cli import ROOT, cli_env, invoke
from testsupport.evidence import Parsed, engine_state
from testsupport.failing import hung_bot, rolled_back_to
from testsupport.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("fast_ticks")
CODE_POINTS = ["commit", "label", "image", "bot container", "worker container", "bot imported", "worker imported"]


def released(box: Sandbox, *args: str, **env: str) -> tuple[int, dict[str, Any], str]:
    """Exit code, the one JSON document stdout holds (json.loads fails on anything else), and stderr."""
    result = invoke(box, "release", "--json", *args, **env)
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_release_prints_one_json_document_and_leaves_a_report_naming_what_ran(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    code, doc, progress = released(sandbox)
    live = sandbox.engine.images.get(sandbox.settings.live_image)
    commit = live.labels["org.opencontainers.image.revision"]
    assert code == 0 and doc["ok"] is True and doc["exit_code"] == 0, progress
    assert (doc["commit"], doc["image_id"], doc["previous"], doc["outcome"]) == (commit, live.id, "", "succeeded")
    points = [p["name"] for p in doc["verify"]["points"]]
    assert points == [*CODE_POINTS, "code layer", "configuration", "release image"]
    digests = {p["digest"] for p in doc["verify"]["points"] if p["name"] in CODE_POINTS}
    assert len(digests) == 1 and all(p["ok"] for p in doc["verify"]["points"]) and doc["verify"]["checks"]
    assert doc["steps"] and all(step["seconds"] >= 0 and step["ok"] for step in doc["steps"])
    assert doc["report"].startswith(f"{sandbox.settings.meta_volume}:reports/")
    assert "build:" in progress and "healthy" in progress  # progress went to stderr

    entry = ledger.read(sandbox.settings, sandbox.engine)[-1]  # its end (the first is its start)
    assert doc["report"].endswith(f"/{entry.report}.json")
    text = invoke(sandbox, "report").stdout
    (digest,) = digests
    assert f"# deploy of {commit[:12]}: succeeded" in text and live.id[7:19] in text and digest in text
    for step in doc["steps"]:  # the last (prune) runs before the ledger entry: the report holds it
        assert f"| {step['name']} |" in text and f"{step['seconds']:.2f} s |" in text
    stored = reports.read_all(sandbox.settings, sandbox.engine)[-1]
    assert stored.id == entry.report
    assert [(s.name, s.seconds, s.ok) for s in stored.steps] == [tuple(s.values()) for s in doc["steps"]]
    assert doc["steps"][-1]["name"].startswith("prune release images")

    page = tmp_path / "reports.html"
    assert invoke(sandbox, "report", "--html", "--out", str(page)).returncode == 0
    parsed = Parsed()
    parsed.feed(page.read_text())
    assert parsed.tags.count("svg") == 1 and commit in parsed.data and digest in parsed.data and not parsed.urls
    assert live.id in parsed.data and all(f"{step['seconds']:.2f} s" in parsed.data for step in doc["steps"])


def test_progress_in_a_pipe_comes_line_by_line_each_step_named_then_timed_and_a_summary_last(sandbox: Sandbox) -> None:
    assert invoke(sandbox, "build").returncode == 0
    argv = [sys.executable, "-m", "invoke", "deploy"]
    with subprocess.Popen(argv, cwd=ROOT, env=cli_env(sandbox), stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        recorded = ledger.read(sandbox.settings, sandbox.engine)  # none yet: the line came as it was said
        lines = [first, *proc.stdout]
    assert proc.returncode == 0 and recorded == [], lines
    assert not any("\r" in line or "\x1b" in line for line in lines)  # plain lines, no terminal control
    said = [line.rstrip("\n") for line in lines]
    timed = [m.group(1) for line in said if (m := re.fullmatch(r"deploy: (.+?) … ok \d+\.\d s(: .+)?", line))]
    assert len(timed) >= 8 and not any(line.endswith(" …") for line in said)  # one line per step, when it ends
    assert re.fullmatch(rf"deploy: {len(timed)} steps in \d+\.\d s, bot down \d+\.\d s", said[-2]), said[-2:]


def test_a_release_that_hangs_is_rolled_back_at_the_start_deadline_and_says_so_in_one_json_document(
    sandbox: Sandbox,
) -> None:
    """A bot that hangs before its first tick (ignoring SIGTERM) fails at the deadline; the one before runs again."""
    code, good, _ = released(sandbox)
    assert code == 0
    broken = hung_bot(sandbox)
    code, doc, _ = released(sandbox)  # the rollback starts a release meant to succeed: the full start deadline
    assert code == doc["exit_code"] == 7 and doc["ok"] is False
    assert (doc["commit"], doc["previous"], doc["outcome"]) == (broken, good["commit"], "rolled_back")
    assert "rolled back" in doc["error"] and f"invoke report --release {broken[:12]}" in doc["next"]
    stall = f"TRADEBOT_START_STALL={sandbox.settings.start_stall:g} tunes it"
    assert "did not start: bot made no progress for" in doc["error"] and stall in doc["error"]
    entry = rolled_back_to(sandbox, good["image_id"], good["commit"], broken)
    assert "bot made no progress for" in entry.cause
    assert [step["ok"] for step in doc["steps"]].count(False) == 1  # the step that failed, the rest of the way back
    assert doc["verify"]["release"] == good["commit"] and doc["verify"]["ok"]  # what runs now: the old release
    text = invoke(sandbox, "report", "--release", broken).stdout
    assert f"# deploy of {broken[:12]}: rolled_back" in text and "did not start: bot made no progress" in text
    stored = reports.read_all(sandbox.settings, sandbox.engine)[-1]
    assert [(s.name, s.seconds, s.ok) for s in stored.steps] == [tuple(s.values()) for s in doc["steps"]]


@dataclass(frozen=True)
class TwoReleased:
    box: Sandbox
    first: dict[str, Any]  # the JSON documents of the two `invoke release --json`
    second: dict[str, Any]


@pytest.fixture(scope="module")
def two_released(module_sandbox: Sandbox) -> TwoReleased:
    """A project released twice (a previous release and a state backup exist); shared by the module."""
    code, first, _ = released(module_sandbox)
    assert code == 0
    module_sandbox.commit("release two")
    code, second, _ = released(module_sandbox)
    assert code == 0
    return TwoReleased(module_sandbox, first, second)


def test_plans_capture_the_live_state_and_change_nothing(two_released: TwoReleased) -> None:
    sandbox = two_released.box  # there is a previous release and a state backup
    third = sandbox.commit("release three")
    assert invoke(sandbox, "build").returncode == 0
    project = {"label": f"com.docker.compose.project={sandbox.settings.project}"}
    running = sandbox.engine.containers.list(filters=project)
    for container in running:
        container.pause()  # the bot saves its state every few seconds: held still, the state file must not change
    try:
        before = engine_state(sandbox)
        argvs = (["deploy", "--plan"], ["rollback", "--plan"], ["restore", "--plan"])
        plans = [invoke(sandbox, *argv) for argv in argvs]
        assert engine_state(sandbox) == before
    finally:
        for container in running:
            container.unpause()

    deploy_plan = plans[0]
    assert deploy_plan.returncode == 0, deploy_plan.stderr
    state = before["state"]
    assert state is not None and state.sha256 in deploy_plan.stdout
    assert f"generation {state.generation}" in deploy_plan.stdout
    assert third[:12] in deploy_plan.stdout and "up -d --force-recreate" in deploy_plan.stdout  # paused: stop first
    assert all(plan.returncode == 0 for plan in plans), [plan.stderr for plan in plans]
    running_again = invoke(sandbox, "deploy", "--plan")
    assert "up -d --no-recreate --no-deps" in running_again.stdout, running_again.stdout  # a handover


def test_a_rollback_and_a_restore_leave_reports_each_ledger_entry_points_to(two_released: TwoReleased) -> None:
    sandbox, first, second = two_released.box, two_released.first, two_released.second
    back = invoke(sandbox, "rollback", "--json")
    assert back.returncode == 0, back.stderr
    doc = json.loads(back.stdout)  # one JSON document, nothing else on stdout
    assert (doc["ok"], doc["event"], doc["commit"]) == (True, "rollback", first["commit"])
    assert doc["previous"] == second["commit"] and doc["exit_code"] == 0
    assert f"# rollback of {first['commit'][:12]}: succeeded" in invoke(sandbox, "report").stdout
    restored = invoke(sandbox, "restore")
    assert restored.returncode == 0, restored.stderr
    assert f"# restore of {first['commit'][:12]}: succeeded" in invoke(sandbox, "report").stdout

    entries = ledger.read(sandbox.settings, sandbox.engine)
    stored = {made.id: made for made in reports.read_all(sandbox.settings, sandbox.engine)}
    assert [e.event for e in entries] == ["deploy", "deploy", "rollback", "restore"]
    assert all(stored[e.report].entry.attempt == e.attempt for e in entries)  # each points to its own report
    assert doc["report"] == f"{sandbox.settings.meta_volume}:reports/{entries[2].report}.json"
