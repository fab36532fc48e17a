import dataclasses
import json
from pathlib import Path

from deploy import ledger
from deploy.ledger import Entry


def entry(commit: str, outcome: str = ledger.SUCCEEDED, event: str = "deploy") -> Entry:
    return Entry(event, commit, "sha256:" + commit, "d" + commit, "t0", "t1", "op@host", outcome)


def test_entries_are_appended_one_json_line_each_and_read_back(tmp_path: Path) -> None:
    ledger.append(tmp_path, entry("a"))
    ledger.append(tmp_path, entry("b", ledger.ROLLED_BACK))
    lines = (tmp_path / "releases.jsonl").read_text().splitlines()
    assert [json.loads(line)["commit"] for line in lines] == ["a", "b"]
    assert ledger.read(tmp_path) == [entry("a"), entry("b", ledger.ROLLED_BACK)]


def test_a_torn_last_line_is_skipped_and_a_missing_ledger_is_empty(tmp_path: Path) -> None:
    assert ledger.read(tmp_path) == []
    ledger.append(tmp_path, entry("a"))
    with (tmp_path / "releases.jsonl").open("a") as f:
        f.write('{"event": "deploy", "comm')
    assert ledger.read(tmp_path) == [entry("a")]


def test_last_success_before_skips_failures_and_the_given_commit() -> None:
    entries = [entry("a"), entry("b"), entry("c", ledger.ROLLED_BACK), entry("b", event="rollback")]
    assert ledger.last_success_before(entries, "b") == entry("a")
    assert ledger.last_success_before(entries, "z") == entry("b", event="rollback")
    assert ledger.last_success_before([entry("a")], "a") is None


def test_table_has_a_header_and_one_row_per_entry() -> None:
    rows = ledger.table([entry("a" * 40), entry("b" * 40, ledger.ROLLED_BACK)]).splitlines()
    assert rows[0].split() == ["finished_at", "event", "commit", "outcome", "previous", "by", "state", "cause"]
    assert rows[2].split()[:4] == ["t1", "deploy", "b" * 12, "rolled_back"]


def test_lines_that_are_no_entry_are_skipped(tmp_path: Path) -> None:
    ledger.append(tmp_path, entry("a"))
    with ledger.path(tmp_path).open("a") as out:
        out.write('[1, 2]\n"text"\n{"event": "deploy"}\n')
    ledger.append(tmp_path, entry("b"))
    assert ledger.read(tmp_path) == [entry("a"), entry("b")]


def test_a_release_of_a_dirty_build_says_so_in_the_table() -> None:
    dirty = Entry("deploy", "c" * 40, "sha256:c", "dc", "t0", "t1", "op@host", ledger.SUCCEEDED, dirty=True)
    assert ledger.table([dirty]).splitlines()[1].split()[2] == "c" * 12 + "-dirty"
    assert Entry.from_json(dirty.to_json()).dirty


def test_the_state_column_names_the_backup_made_or_put_back() -> None:
    made = dataclasses.replace(entry("a" * 40), backup="p_state-backup-20261122T000102.345Z")
    restored = entry("a" * 40, event="restore")
    put_back = dataclasses.replace(restored, restored_from="p_state-backup-20261121T090000.000Z")
    rows = ledger.table([made, put_back, entry("b" * 40)]).splitlines()
    assert rows[1].split()[-2:] == ["backup", "20261122T000102.345Z"]
    assert rows[2].split()[-2:] == ["from", "20261121T090000.000Z"]
    assert rows[3].split()[-1] == "op@host"
