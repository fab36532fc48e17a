"""An unfinished rebuild, whatever volumes exist, and the ledger entry that marks one finished."""

from __future__ import annotations

from types import SimpleNamespace

import docker.errors
import pytest

from deploy.config import Settings
from deploy.errors import RebuildUnfinished
from deploy.rebuild.labels import journal_labels, state_labels
from deploy.records import ledger
from deploy.records.ledger import Entry
from deploy.steps import backups, rebuilding
from tests.unit.deploy.rebuild.test_labels import AT

MADE = state_labels("tb", "state", "2.40.3", "legacy", "legacy-backup-1")
JOURNAL = journal_labels("legacy", "legacy-backup-1", AT)


def rebuild_entry(outcome: str, backup: str = "legacy-backup-1") -> Entry:
    return Entry("volume-rebuild", "c", "", "", "t0", "t1", "me", outcome, backup=backup, restored_from="legacy")


def test_a_journal_means_unfinished_even_without_a_state_volume() -> None:
    """The issue's case: killed after the journal, before the state volume; a deploy must not go ahead."""
    assert rebuilding.unfinished(JOURNAL, None, []) == "legacy"
    assert rebuilding.unfinished(JOURNAL, MADE, [rebuild_entry(ledger.SUCCEEDED)]) == "legacy"


def test_a_rebuilt_state_volume_is_finished_only_when_the_ledger_says_its_rebuild_succeeded() -> None:
    assert rebuilding.unfinished(None, MADE, []) == "legacy"  # the journal was removed by hand
    assert rebuilding.unfinished(None, MADE, [rebuild_entry(ledger.FAILED)]) == "legacy"
    assert rebuilding.unfinished(None, MADE, [rebuild_entry(ledger.SUCCEEDED, "legacy-backup-0")]) == "legacy"
    assert rebuilding.unfinished(None, MADE, [rebuild_entry(ledger.SUCCEEDED)]) is None


def test_a_state_volume_no_rebuild_made_is_not_a_rebuild() -> None:
    assert rebuilding.unfinished(None, {"com.docker.compose.project": "tb"}, []) is None
    assert rebuilding.unfinished(None, None, []) is None


def test_the_refusal_says_how_to_finish() -> None:
    refused = rebuilding.refused("tb_state", "legacy")
    assert "did not finish" in refused.message and "--legacy legacy" in refused.hint and refused.exit_code == 9


class Volumes:
    """The engine's volumes as `refuse_unfinished` asks them: `get(name).attrs["Labels"]`."""

    def __init__(self, **labels: dict[str, str]) -> None:
        self.labels = labels

    def get(self, name: str) -> object:
        if name not in self.labels:
            raise docker.errors.NotFound(name)
        return SimpleNamespace(attrs={"Labels": self.labels[name]})


def test_refuse_unfinished_reads_the_journal_and_the_state_volume_from_the_engine() -> None:
    settings = Settings(project="tb")
    only_journal = SimpleNamespace(volumes=Volumes(**{backups.rebuild_marker(settings.state_volume): JOURNAL}))
    with pytest.raises(RebuildUnfinished) as refused:
        rebuilding.refuse_unfinished(settings, only_journal, [])  # type: ignore[arg-type]
    assert refused.value.data == {"volume": settings.state_volume, "legacy": "legacy"}
    finished = SimpleNamespace(volumes=Volumes(**{settings.state_volume: MADE}))
    rebuilding.refuse_unfinished(settings, finished, [rebuild_entry(ledger.SUCCEEDED)])  # type: ignore[arg-type]
