from datetime import UTC, datetime

from deploy.volumes import Backup, backup_name, backups_to_remove, copy_command


def test_backup_names_carry_the_volume_and_sort_by_time() -> None:
    early = backup_name("tb_state", datetime(2026, 11, 22, 0, 1, 2, 345678, tzinfo=UTC))
    late = backup_name("tb_state", datetime(2026, 11, 22, 0, 1, 2, 999000, tzinfo=UTC))
    assert early == "tb_state-backup-20261122T000102.345Z"
    assert early < late


def test_only_the_newest_backups_are_kept() -> None:
    found = [Backup("b1", "2026-01-01"), Backup("b3", "2026-01-03"), Backup("b2", "2026-01-02")]
    assert backups_to_remove(found, keep=2) == ["b1"]
    assert backups_to_remove(found, keep=5) == []


def test_the_copy_keeps_owners_modes_and_hidden_files() -> None:
    assert copy_command() == ["cp", "-a", "/from/.", "/to/"]
