"""What a volume rebuild forbids deploy, rollback and restore (`rebuildguard.refuse`), read from the engine."""

from __future__ import annotations

import dataclasses

import pytest

from deploy.errors import LegacyWriters, RebuildUnfinished
from deploy.procedures import rebuildguard
from deploy.procedures.procedure import Deployment
from deploy.records import ledger
from deploy.steps import backups, rebuilding
from tests.unit.deploy.procedures.site import Recorder

JOURNAL = {backups.REBUILD_OF: "legacy"}
REBUILT = {rebuilding.REBUILT_FROM: "legacy", rebuilding.LEGACY_BACKUP: "legacy-backup-1"}
FINISHED = dataclasses.replace(
    ledger.Entry("volume-rebuild", "", "", "", "t0", "t1", "me", ledger.SUCCEEDED),
    backup="legacy-backup-1",
    restored_from="legacy",
)


def engine_with(
    monkeypatch: pytest.MonkeyPatch, volumes: dict[str, dict[str, str]], writers: list[str] | None = None
) -> None:
    """The engine's volumes (name → labels) and the containers that mount the legacy volume."""
    monkeypatch.setattr(rebuilding, "labels_of", lambda _engine, name: volumes.get(name))
    monkeypatch.setattr(rebuilding, "legacy_writers", lambda _engine, _legacy: list(writers or []))


def test_a_rebuild_killed_before_it_made_the_state_volume_is_refused(
    d: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_with(monkeypatch, {"p_state-rebuilding": JOURNAL})  # the journal volume, no state volume yet
    with pytest.raises(RebuildUnfinished) as refused:
        rebuildguard.refuse(d)
    assert refused.value.exit_code == 9
    assert refused.value.hint == "run `invoke volume-rebuild --legacy legacy` again: it finishes the rebuild"


def test_a_state_volume_rebuilt_without_a_recorded_success_is_refused(
    d: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_with(monkeypatch, {"p_state": REBUILT})  # its journal removed by hand
    with pytest.raises(RebuildUnfinished):
        rebuildguard.refuse(d)


def test_the_legacy_bots_containers_are_refused_while_they_exist(
    d: Deployment, seen: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen.records.ledger.append(FINISHED)
    engine_with(monkeypatch, {"p_state": REBUILT}, writers=["legacy-bot"])
    with pytest.raises(LegacyWriters) as refused:
        rebuildguard.refuse(d)
    assert refused.value.exit_code == 9 and refused.value.data["containers"] == ["legacy-bot"]


def test_a_finished_rebuild_or_none_lets_the_command_go_on(
    d: Deployment, seen: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_with(monkeypatch, {}, writers=["legacy-bot"])  # no rebuild made the state volume: no legacy to guard
    rebuildguard.refuse(d)
    seen.records.ledger.append(FINISHED)
    engine_with(monkeypatch, {"p_state": REBUILT})
    rebuildguard.refuse(d)
