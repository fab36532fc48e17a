"""A volume rebuild's report: the figures it keeps (never a secret's hash), and how Markdown and HTML show them."""

from __future__ import annotations

import hashlib
import html.parser
import json
import re

import pytest

from deploy.errors import CopyNotProven
from deploy.output.progress import Progress
from deploy.procedures import report as reports
from deploy.procedures.procedure import Step
from deploy.procedures.report import Report, StepTime
from deploy.procedures.trail import Trail
from deploy.rebuild import drift, evidence, procedure, triage
from deploy.rebuild.procedure import Decided
from deploy.records.ledger import Entry
from deploy.steps import snapshot
from tests.unit.deploy.rebuild.factories import real_layout, volume

LAYOUT = real_layout()
SECRET = "BINANCE_API_SECRET=do-not-print-me"
SECRET_HASH = hashlib.sha256(SECRET.encode()).hexdigest()
LEGACY = volume(
    ".env", "workspace/live_portfolio.json", "workspace/trading/bot.py", "workspace/notes.txt", **{".env": SECRET}
)
COMMIT = "c" * 40
STEPS = ("inventory", "backup", "state", "drift", "record")


def made() -> Report:
    chosen = triage.make(LEGACY, LAYOUT)
    decided = Decided(LEGACY, chosen, "fresh", "old-backup-20261122T040000.000Z", None)
    rows = drift.compare(chosen.code, {"bot.py": "b" * 64, "worker.py": "c" * 64}, LAYOUT)
    figures = json.loads(json.dumps(evidence.figures("old", "x_state", COMMIT, decided, rows)))  # as stored
    entry = Entry(
        **{
            "event": "volume-rebuild",
            "commit": COMMIT,
            "image_id": "",
            "previous": "",
            "by": "op@host",
            "started_at": "2026-11-22T04:00:00+00:00",
            "finished_at": "2026-11-22T04:00:09+00:00",
            "outcome": "succeeded",
            "cause": "",
            "dirty": False,
            "backup": decided.backup,
            "restored_from": "old",
            "code_digest": "",
        }
    )
    steps = tuple(StepTime(name, float(n), 0.5 + n) for n, name in enumerate(STEPS))
    return Report("20261122T040009.000000Z-abcd", entry, None, None, steps, None, None, figures)


def test_the_figures_count_every_file_name_the_carried_ones_and_never_keep_a_secrets_hash() -> None:
    figures = made().rebuild
    assert figures is not None and SECRET_HASH not in json.dumps(figures)
    assert figures["inventory"] == {
        "files": 4,
        "bytes": sum(i.size for i in LEGACY.values()),
        "carried": 2,
        "code": 1,
        "unknown": 1,
        "kept": [],
    }
    carried = {c["to"]: c["sha256"] for c in figures["carried"]}
    assert carried == {".env": "", "live_portfolio.json": LEGACY["workspace/live_portfolio.json"].sha256}
    assert figures["drift"]["summary"] == "0 same, 1 changed, 0 only in volume, 1 only in repo"
    assert [row["path"] for row in figures["drift"]["rows"]] == ["bot.py", "worker.py"]


def test_a_rebuild_report_survives_its_json() -> None:
    assert Report.from_json(made().to_json()) == made()


def test_the_markdown_names_the_volumes_the_backup_every_step_the_carried_files_and_the_drift() -> None:
    text = reports.markdown(made())
    assert text.startswith("# volume-rebuild of old into x_state: succeeded")
    assert "| backup | old-backup-20261122T040000.000Z, the whole legacy volume, proven identical" in text
    for n, name in enumerate(STEPS):
        assert f"| {n + 1} | {name} | {n:.2f} s | {0.5 + n:.2f} s | ok |" in text
    assert "| .env | .env | " in text and "(secret: not shown)" in text and SECRET_HASH not in text
    assert f"`{LEGACY['workspace/live_portfolio.json'].sha256}`" in text
    assert "| files | 4 (" in text and "0 same, 1 changed, 0 only in volume, 1 only in repo" in text
    assert "| bot.py | changed | " in text and "the rebuild starts no release" in text


def test_the_html_page_shows_the_same_and_parses() -> None:
    page = reports.html(made())
    parsed = html.parser.HTMLParser()
    parsed.feed(page)
    parsed.close()
    assert "volume-rebuild of old into x_state" in page and "old-backup-20261122T040000.000Z" in page
    assert "(secret: not shown)" in page and SECRET_HASH not in page and "only in repo" in page
    assert page.count("<rect") == len(STEPS)  # a bar per step; the bot was not stopped: no downtime window


def test_state_facts_read_a_versioned_envelope_and_a_legacy_unversioned_state() -> None:
    versioned = json.dumps({"generation": 4, "state": {"positions": {"BTCUSDT": {}, "ETHUSDT": {}}}}).encode()
    legacy = json.dumps({"cash": 1.0, "positions": {"BTCUSDT": {}}}).encode()
    facts = snapshot.state_facts({snapshot.STATE_FILE: versioned})
    assert facts is not None and (facts.generation, facts.open_positions) == (4, 2)
    facts = snapshot.state_facts({snapshot.STATE_FILE: legacy})
    assert facts is not None and (facts.generation, facts.open_positions, facts.commands) == (None, 1, None)
    assert facts.sha256 == hashlib.sha256(legacy).hexdigest() and snapshot.state_facts({}) is None


def test_a_step_that_fails_before_the_record_step_is_recorded_then_raised_and_kept_as_failed() -> None:
    said, failed, trail = [], [], Trail()
    steps = Progress("volume-rebuild", said.append, total=5)

    def broken() -> str:
        raise CopyNotProven("the backup b of old is not identical: a.json: missing")

    for name in ("backup", procedure.RECORD):  # a failing record step cannot record itself
        with pytest.raises(CopyNotProven):
            procedure.walk_step(steps, trail, Step(name, broken, doing="copying", proves=True), failed.append)
    assert failed == ["the backup b of old is not identical: a.json: missing"]
    assert [(s.name, s.ok) for s in trail.steps] == [("backup", False), ("record", False)]
    assert [line.split(" … ")[0] for line in said] == ["volume-rebuild [1/5] backup", "volume-rebuild [2/5] record"]
    assert all(re.fullmatch(r".* … failed after \d+\.\d s", line) for line in said), said
