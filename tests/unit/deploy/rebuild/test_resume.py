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


RAN_ON = ("bot.lock", "heartbeat", "heartbeat/bot.json")


def test_a_state_volume_a_release_ran_on_is_never_replaced_to_finish_a_rebuild() -> None:
    """The issue's case: a rebuild killed before it made the state volume, a deploy made one and traded on it;
    running the rebuild again must not remove it (with --force it is backed up first)."""
    traded = Found(OPEN, OTHER, 5, foreign=RAN_ON)
    with pytest.raises(TargetHoldsState, match="a release ran on it") as refused:
        resume.decide(traded, "legacy", "tb_state", force=False)
    assert refused.value.data["foreign"] == list(RAN_ON)
    assert resume.decide(traded, "legacy", "tb_state", force=True) == resume.RESUME
    assert resume.replaces(traded, resume.RESUME) and not resume.replaces(Found(OPEN, OURS, 1), resume.RESUME)


def test_a_half_made_state_volume_whose_journal_was_removed_by_hand_is_finished_not_done() -> None:
    half = Found(None, OURS, 2, finished=False)
    assert resume.decide(half, "legacy", "tb_state", force=False) == resume.RESUME
    assert resume.resumed_backup(half) == "legacy-backup-1"
    assert resume.decide(Found(None, OURS, 2, finished=True), "legacy", "tb_state", force=False) == resume.DONE
    with pytest.raises(TargetHoldsState):
        resume.decide(Found(None, OURS, 4, finished=False, foreign=RAN_ON), "legacy", "tb_state", force=False)
