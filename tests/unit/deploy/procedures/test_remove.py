"""`remove --backups` never deletes the last copy of the bot's state."""

from __future__ import annotations

from deploy.procedures.remove import removable
from deploy.steps.backups import Backup

NEWEST_FIRST = [Backup("p_state-backup-3", "t3"), Backup("p_state-backup-2", "t2"), Backup("p_state-backup-1", "t1")]


def test_with_the_state_volume_there_every_backup_may_go() -> None:
    assert removable(NEWEST_FIRST, state_exists=True, state_removed=False) == [b.name for b in NEWEST_FIRST]


def test_with_state_removed_in_the_same_command_the_final_backup_made_after_the_list_stays() -> None:
    assert removable(NEWEST_FIRST, state_exists=True, state_removed=True) == [b.name for b in NEWEST_FIRST]


def test_with_no_state_volume_left_the_newest_backup_stays() -> None:
    assert removable(NEWEST_FIRST, state_exists=False, state_removed=False) == ["p_state-backup-2", "p_state-backup-1"]
    assert removable([], state_exists=False, state_removed=False) == []
