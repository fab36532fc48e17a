"""Where a rebuild stands and what a run does: every combination of journal, state volume and --force."""

from __future__ import annotations

import pytest

from deploy.errors import RebuildUnfinished, TargetHoldsState
from deploy.rebuild import resume
from deploy.rebuild.labels import journal_labels, state_labels
from deploy.rebuild.resume import Found
from tests.unit.deploy.rebuild.test_labels import AT

OURS = state_labels("tb", "state", "2.40.3", "legacy", "legacy-backup-1")
OTHER = {"com.docker.compose.project": "tb"}
OPEN = journal_labels("legacy", "legacy-backup-1", AT)


@pytest.mark.parametrize(
    ("found", "force", "expected"),
    [
        (Found(None, None, 0), False, resume.FRESH),
        (Found(None, OTHER, 0), False, resume.FRESH),  # an empty state volume holds no state
        (Found(None, OURS, 3), False, resume.DONE),
        (Found(None, OURS, 3), True, resume.AGAIN),
        (Found(None, OTHER, 3), True, resume.AGAIN),
        (Found(OPEN, OURS, 1), False, resume.RESUME),
        (Found(OPEN, None, 0), True, resume.RESUME),
    ],
)
def test_what_a_run_does(found: Found, force: bool, expected: str) -> None:
    assert resume.decide(found, "legacy", "tb_state", force) == expected


def test_state_from_elsewhere_is_refused_without_force() -> None:
    with pytest.raises(TargetHoldsState, match="already holds state") as refused:
        resume.decide(Found(None, OTHER, 3), "legacy", "tb_state", force=False)
    assert "--force" in refused.value.hint


def test_an_unfinished_rebuild_of_another_legacy_volume_is_refused_naming_it() -> None:
    with pytest.raises(RebuildUnfinished) as refused:
        resume.decide(Found(OPEN, None, 0), "another", "tb_state", force=True)
    assert refused.value.data["legacy"] == "legacy" and "--legacy legacy" in refused.value.hint


def test_a_resumed_run_keeps_the_backup_name_the_interrupted_run_chose() -> None:
    assert resume.resumed_backup(Found(OPEN, None, 0)) == "legacy-backup-1"
    assert resume.resumed_backup(Found(None, None, 0)) is None
