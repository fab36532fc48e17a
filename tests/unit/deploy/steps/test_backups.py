import json
from datetime import UTC, datetime

import pytest

from deploy.errors import BackupMissing
from deploy.steps import backupproof
from deploy.steps.backups import COMPLETE, INCOMPLETE, Backup, backup_name, backups_to_remove, choose, output


def test_backup_names_carry_the_volume_and_sort_by_time() -> None:
    early = backup_name("tb_state", datetime(2026, 11, 22, 0, 1, 2, 345678, tzinfo=UTC))
    late = backup_name("tb_state", datetime(2026, 11, 22, 0, 1, 2, 999000, tzinfo=UTC))
    assert early == "tb_state-backup-20261122T000102.345Z"
    assert early < late


def test_only_the_newest_backups_are_kept() -> None:
    found = [Backup("b1", "2026-01-01"), Backup("b3", "2026-01-03"), Backup("b2", "2026-01-02")]
    assert backups_to_remove(found, keep=2) == ["b1"]
    assert backups_to_remove(found, keep=5) == []


def test_the_backup_copies_with_statecopy_then_reads_the_copy_again_with_the_probe_in_one_helper() -> None:
    argv = backupproof.command()
    assert argv[:2] == ["sh", "-c"] and argv[3] == backupproof.SEPARATOR
    assert "def copy_tree" in argv[4] and "def inventory" in argv[5]
    assert argv[2] == 'python3 -I -c "$1" /from /to && echo "$0" && python3 -I -c "$2" inventory /to'


FOUND = [
    Backup("b1", "2026-01-01", COMPLETE),
    Backup("b3", "2026-01-03", COMPLETE),
    Backup("b2", "2026-01-02", COMPLETE),
]


def test_restore_takes_the_named_backup_or_else_the_newest() -> None:
    assert choose(FOUND, "b1") == Backup("b1", "2026-01-01", COMPLETE)
    assert choose(FOUND, None) == Backup("b3", "2026-01-03", COMPLETE)


def test_an_unknown_backup_is_refused_naming_the_ones_there_are() -> None:
    with pytest.raises(BackupMissing) as missing:
        choose(FOUND, "b9")
    assert missing.value.data["available"] == ["b3", "b2", "b1"]
    assert str(missing.value) == "no state backup named b9; pick one of b3, b2, b1 (`invoke backups`)"
    with pytest.raises(BackupMissing, match="no state backup exists; a deploy or rollback makes one"):
        choose([], None)


def test_backups_are_listed_newest_first_as_text_or_json() -> None:
    assert output(FOUND).splitlines() == ["2026-01-03  b3", "2026-01-02  b2", "2026-01-01  b1"]
    assert json.loads(output(FOUND, as_json=True))[0] == {"name": "b3", "created": "2026-01-03", "state": "complete"}
    assert output([]) == "no backups"


KILLED = Backup("b4", "2026-01-04", INCOMPLETE)  # newest, but its copy was killed (or not proven): no marker


def test_an_incomplete_backup_is_never_restored_never_kept_and_named_as_such() -> None:
    assert choose([*FOUND, KILLED], None).name == "b3"  # the newest complete one
    with pytest.raises(BackupMissing, match="state backup b4 is incomplete: it was never proven"):
        choose([*FOUND, KILLED], "b4")
    assert backups_to_remove([*FOUND, KILLED], keep=3) == ["b4"]  # and it does not count as one of the kept
    assert backups_to_remove([*FOUND, KILLED], keep=1) == ["b4", "b2", "b1"]
    assert output([KILLED]) == "2026-01-04  b4  INCOMPLETE: never proven, never restored"
    assert output([Backup("b0", "2025-12-31")]) == "2025-12-31  b0  (made before backups were proven)"
    assert choose([Backup("b0", "2025-12-31")], None).name == "b0"  # an older version's backup: restorable


MANIFEST = [
    {"path": "live_portfolio.json", "kind": "file", "size": 3, "sha256": "a", "tables": None},
    {"path": "commands.db", "kind": "file", "size": 8192, "sha256": "b", "tables": "t"},
    {"path": "logs", "kind": "dir", "size": 0, "sha256": None, "tables": None},
    {"path": "logs/feed.fifo", "kind": "special", "skipped": "a FIFO, socket or device"},
]


def test_a_copy_is_proven_when_it_holds_exactly_what_its_manifest_names() -> None:
    inventory = [{"path": ".", "kind": "dir"}, *[dict(e, mode=0o600) for e in MANIFEST if not e.get("skipped")]]
    assert backupproof.differences(MANIFEST, inventory) == []
    truncated = [dict(e, size=1) if e["path"] == "live_portfolio.json" else e for e in inventory]
    assert backupproof.differences(MANIFEST, truncated) == ["live_portfolio.json: size differs"]
    other_rows = [dict(e, tables="u", sha256="c") if e["path"] == "commands.db" else e for e in inventory]
    assert backupproof.differences(MANIFEST, other_rows) == ["commands.db: tables differs"]
    assert backupproof.differences(MANIFEST, [e for e in inventory if e["path"] != "logs"]) == ["logs: missing"]
    assert backupproof.differences(MANIFEST, [*inventory, {"path": "x", "kind": "file"}]) == ["x: not in the manifest"]


def test_the_helpers_output_splits_into_the_manifest_and_the_inventory() -> None:
    out = b'{"path": "a"}\n' + backupproof.SEPARATOR.encode() + b'\n{"path": "."}\n{"path": "a"}\n'
    assert backupproof.split(out) == ([{"path": "a"}], [{"path": "."}, {"path": "a"}])
    marked = backupproof.marker("b5", "p_state", "t0", MANIFEST, "t1")
    assert (marked.files, marked.bytes, marked.path) == (2, 8195, "backups/b5.json")
