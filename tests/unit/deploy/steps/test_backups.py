import json
from datetime import UTC, datetime

import pytest

from deploy.errors import BackupMissing
from deploy.steps.backups import Backup, backup_name, backups_to_remove, choose, copy_command, output


def test_backup_names_carry_the_volume_and_sort_by_time() -> None:
    early = backup_name("tb_state", datetime(2026, 11, 22, 0, 1, 2, 345678, tzinfo=UTC))
    late = backup_name("tb_state", datetime(2026, 11, 22, 0, 1, 2, 999000, tzinfo=UTC))
    assert early == "tb_state-backup-20261122T000102.345Z"
    assert early < late


def test_only_the_newest_backups_are_kept() -> None:
    found = [Backup("b1", "2026-01-01"), Backup("b3", "2026-01-03"), Backup("b2", "2026-01-02")]
    assert backups_to_remove(found, keep=2) == ["b1"]
    assert backups_to_remove(found, keep=5) == []


def test_the_backup_copy_runs_statecopy_in_the_helpers_python() -> None:
    argv = copy_command()
    assert argv[:3] == ["python3", "-I", "-c"] and argv[4:] == ["/from", "/to"]
    assert "def copy_tree" in argv[3] and "sqlite3" in argv[3]


FOUND = [Backup("b1", "2026-01-01"), Backup("b3", "2026-01-03"), Backup("b2", "2026-01-02")]


def test_restore_takes_the_named_backup_or_else_the_newest() -> None:
    assert choose(FOUND, "b1") == Backup("b1", "2026-01-01")
    assert choose(FOUND, None) == Backup("b3", "2026-01-03")


def test_an_unknown_backup_is_refused_naming_the_ones_there_are() -> None:
    with pytest.raises(BackupMissing) as missing:
        choose(FOUND, "b9")
    assert missing.value.data["available"] == ["b3", "b2", "b1"]
    assert str(missing.value) == "no state backup named b9; pick one of b3, b2, b1 (`invoke backups`)"
    with pytest.raises(BackupMissing, match="no state backup exists; a deploy or rollback makes one"):
        choose([], None)


def test_backups_are_listed_newest_first_as_text_or_json() -> None:
    assert output(FOUND).splitlines() == ["2026-01-03  b3", "2026-01-02  b2", "2026-01-01  b1"]
    assert json.loads(output(FOUND, as_json=True))[0] == {"name": "b3", "created": "2026-01-03"}
    assert output([]) == "no backups"
