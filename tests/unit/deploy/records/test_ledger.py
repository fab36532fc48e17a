import dataclasses
import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from deploy.records import ledger
from deploy.records.ledger import Entry


def entry(commit: str, outcome: str = ledger.SUCCEEDED, event: str = "deploy") -> Entry:
    return Entry(event, commit, "sha256:" + commit, "d" + commit, "t0", "t1", "op@host", outcome)


@given(st.lists(st.datetimes(datetime(1970, 1, 1), timezones=st.just(UTC)), min_size=2, max_size=20), st.data())
def test_ids_sort_in_the_order_of_their_times(times: list[datetime], data: st.DataObject) -> None:
    tokens = data.draw(st.lists(st.text("0123456789abcdef", min_size=8, max_size=8), min_size=len(times)))
    ids = [ledger.entry_id(at, token) for at, token in zip(times, tokens, strict=False)]
    by_id = [at for _, at in sorted(zip(ids, times, strict=False))]
    assert by_id == sorted(times)


def test_parse_skips_what_is_no_entry() -> None:
    texts = [entry("a").to_json(), "[1, 2]", '"text"', '{"event": "deploy"}', '{"event": "deploy", "comm', "{}"]
    assert ledger.parse([*texts, entry("b").to_json()]) == [entry("a"), entry("b")]


def test_a_carried_over_entry_keeps_its_time_and_its_id_its_content() -> None:
    old = dataclasses.replace(entry("a"), finished_at="2026-11-20T10:00:00+00:00")
    assert ledger.carried_id(old).startswith("20261120T100000.000000Z-local")
    assert ledger.carried_id(old) == ledger.carried_id(Entry.from_json(old.to_json()))
    assert ledger.carried_id(old) != ledger.carried_id(dataclasses.replace(old, commit="b"))
    assert ledger.carried_id(entry("c")).startswith("19700101T000000")  # a time it cannot read sorts first


def test_last_success_before_skips_failures_and_the_given_commit() -> None:
    entries = [entry("a"), entry("b"), entry("c", ledger.ROLLED_BACK), entry("b", event="rollback")]
    assert ledger.last_success_before(entries, "b") == entry("a")
    assert ledger.last_success_before(entries, "z") == entry("b", event="rollback")
    assert ledger.last_success_before([entry("a")], "a") is None


def test_table_has_a_header_and_one_row_per_entry() -> None:
    rows = ledger.table([entry("a" * 40), entry("b" * 40, ledger.ROLLED_BACK)]).splitlines()
    assert rows[0].split() == ["finished_at", "event", "commit", "outcome", "previous", "by", "state", "cause"]
    assert rows[2].split()[:4] == ["t1", "deploy", "b" * 12, "rolled_back"]


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


def test_tried_tells_releases_that_went_live_from_those_that_only_failed() -> None:
    history = [entry("a"), entry("b", ledger.FAILED), entry("b"), entry("c", ledger.ROLLED_BACK)]
    history += [entry("d", ledger.FAILED), entry("e", event="volume-rebuild")]
    tried = ledger.tried(history)
    assert tried.succeeded == {"sha256:a", "sha256:b"}
    assert tried.failed == {"sha256:c", "sha256:d"}


def test_runtime_of_is_what_the_newest_success_of_that_image_ran_with() -> None:
    old = entry("a")  # written before runtime settings were recorded
    ran = dataclasses.replace(entry("a"), runtime={"TRADEBOT_TICK_SECONDS": "0.2"})
    failed = dataclasses.replace(entry("a", ledger.FAILED), runtime={"TRADEBOT_TICK_SECONDS": "abc"})
    assert ledger.runtime_of([old], "sha256:a") is None
    assert ledger.runtime_of([old, ran, failed], "sha256:a") == {"TRADEBOT_TICK_SECONDS": "0.2"}
    assert ledger.runtime_of([ran], "sha256:b") is None
    assert Entry.from_json(ran.to_json()) == ran


def test_an_entry_with_its_layers_and_policy_reads_back_equal() -> None:
    entry = ledger.Entry(
        "deploy", "c" * 40, "sha256:1", "d", "t0", "t1", "op@host", "succeeded", layers=("sha256:a", "sha256:b")
    )
    entry = dataclasses.replace(entry, policy="f" * 64)
    assert ledger.Entry.from_json(entry.to_json()) == entry
    assert ledger.Entry.from_dict({**json.loads(entry.to_json()), "layers": None}).layers == ()
