"""The evidence a volume rebuild leaves, through the operator's CLI: a plan that captures the live state and
names the very steps the run then takes, changing nothing; a report with every step, the backup and the figures.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from deploy.procedures import report as reports
from deploy.records import ledger
from tests.integration.test_volume_rebuild import files_of, legacy_backups
from tests.integration.test_volume_rebuild import legacy_volume as legacy_volume  # the fixture
from testsupport.cli import invoke, refused
from testsupport.evidence import Parsed, engine_state
from testsupport.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("fast_ticks")
STATE = json.dumps({"generation": 7, "state": {"positions": {"ETHUSDT": {"qty": 1}}}})
STATE_SHA = hashlib.sha256(STATE.encode() + b"\n").hexdigest()
BACKUP_TIME = re.compile(r"-backup-\d{8}T\d{6}\.\d{3}Z")


def still(box: Sandbox, name: str) -> dict[str, object]:
    return {**engine_state(box), "legacy": files_of(box, name)}


def test_a_rebuild_plan_captures_the_live_state_and_the_run_takes_its_steps_leaving_a_report(
    sandbox: Sandbox, legacy_volume: str
) -> None:
    box, name = sandbox, legacy_volume
    settings, state = box.settings, box.settings.state_volume
    box.engine.volumes.create(state)  # holding state: --force replaces it after a proven backup
    box.in_volume(state, f"echo '{STATE}' > /v/live_portfolio.json")
    legacy_bot = box.engine.containers.create(
        settings.base_image or "", ["true"], volumes={name: {"bind": "/v"}}, name=f"{settings.project}-legacy-bot"
    )  # the legacy bot, stopped by the operator: dockerd brings it back for `restart: always`
    try:
        with_bot = invoke(box, "volume-rebuild", "--legacy", name, "--plan", "--force")
        refused(invoke(box, "volume-rebuild", "--legacy", name, "--force"), 9, f"{legacy_bot.name} (image", "docker rm")
    finally:
        legacy_bot.remove(force=True)
    assert f"used by        {legacy_bot.name}: created, none, image {legacy_bot.image.id[7:19]}" in with_bot.stdout
    named = f"{legacy_bot.name} (image {legacy_bot.image.id[7:19]}, created) mounts {name}"
    assert f"a run would refuse ({named}: the rebuild copies the legacy volume" in with_bot.stdout
    before = still(box, name)
    planned = invoke(box, "volume-rebuild", "--legacy", name, "--plan", "--force")
    assert still(box, name) == before  # containers, volumes, ledger, state, tags and the legacy files
    assert planned.returncode == 0, planned.stderr
    done = invoke(box, "volume-rebuild", "--legacy", name, "--force", "--verbose")  # each step said as it starts
    assert done.returncode == 0, done.stderr

    out, legacy_sha = planned.stdout, before["legacy"]["workspace/live_portfolio.json"].split()[0]
    assert f"its state file workspace/live_portfolio.json: sha256 {legacy_sha}" in out
    assert f"state file     sha256 {STATE_SHA}" in out and "generation 7, 1 open positions" in out
    assert "generation none (unversioned: the bot migrates it on its first start), 1 open positions" in out
    assert "deploy lock    free" in out and "newest backup  none" in out and "its newest backup  none" in out
    assert f"a run would back up the state {state} holds, then rebuild it from {name}" in out
    plan_steps = [(n, BACKUP_TIME.sub("-backup-T", doing)) for n, doing in re.findall(r"^  (\d)\. (.*)$", out, re.M)]
    run_steps = re.findall(r"^volume-rebuild \[(\d)/5\] (\w+: .*) …$", done.stdout, re.M)
    assert plan_steps[0] == ("1", run_steps[0][1] + " (this plan did it, read-only)")
    assert plan_steps[1:] == [(n, BACKUP_TIME.sub("-backup-T", doing)) for n, doing in run_steps[1:]]
    assert len(plan_steps) == 5

    entry = ledger.read(settings, box.engine)[-1]
    [backup] = legacy_backups(box, name)
    assert (entry.event, entry.outcome, entry.backup, entry.restored_from) == (
        "volume-rebuild",
        "succeeded",
        backup,
        name,
    )
    stored = reports.read_all(settings, box.engine)[-1]
    assert stored.id == entry.report and stored.rebuild and stored.rebuild["replaced"] in legacy_backups(box, state)
    took = dict(re.findall(r"^volume-rebuild \[\d/5\] (\w+) … ok (\d+\.\d) s", done.stdout, re.M))
    assert [s.name for s in stored.steps] == list(took) == ["inventory", "backup", "state", "drift", "record"]
    assert all(abs(s.seconds - float(took[s.name])) <= 0.1 for s in stored.steps), (stored.steps, took)  # as said

    text = invoke(box, "report").stdout
    assert f"# volume-rebuild of {name} into {state}: succeeded" in text and backup in text
    assert f"| state file sha256 | {STATE_SHA} | {legacy_sha} (changed) |" in text
    assert "| record | " in text and "1 same, 1 changed, 5 only in volume, " in text
    page = box.repo / "reports.html"
    assert invoke(box, "report", "--html", "--out", str(page)).returncode == 0
    parsed = Parsed()
    parsed.feed(page.read_text())
    assert legacy_sha in parsed.data and backup in parsed.data and not parsed.urls
