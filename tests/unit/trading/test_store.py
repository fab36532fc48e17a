"""StateStore: transactions, atomic replace, backups, corruption fallback, migration, refusals."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil

import pytest

from trading.errors import InvalidStateError, NoValidStateError, StateTooNewError, StateWriteError
from trading.store import atomic, backups
from trading.store.document import CURRENT_VERSION, Document, compact, encode
from trading.store.migrations import migrate_legacy, new_state
from trading.store.persistence import StateStore

LEGACY = {
    "cash": 500.0,
    "starting_capital": 1000.0,
    "created_at": "2026-01-01",
    "positions": {"BTC": {"qty": 0.5, "entry_price": 100.0, "stop_loss": 90.0, "take_profit": 120.0}},
    "closed_trades": [{"symbol": "ETH", "pnl": -3.0}],
    "sl_cooldowns": {"ETH": 5},
    "repeat_loss_count": 1,
    "tier3_budget": 42,
    "emergency_stopped": True,
    "emergency_reason": "drawdown",
}


def test_transaction_saves_and_bumps_generation(store):
    before = store.load().generation
    with store.transaction() as state:
        state["positions"]["BTC"]["stop_loss"] = 12.0
    doc = store.load()
    assert doc.generation == before + 1
    assert doc.state["positions"]["BTC"]["stop_loss"] == 12.0


def test_transaction_that_raises_saves_nothing(store):
    before = store.path.read_bytes()
    with pytest.raises(RuntimeError), store.transaction() as state:
        state["cash"] = 0.0
        raise RuntimeError("boom")
    assert store.path.read_bytes() == before


def test_no_temp_files_left_and_stale_ones_cleaned_on_open(store):
    with store.transaction():
        pass
    stale = store.path.parent / f".{store.path.name}{atomic.TEMP_MARKER}dead"
    stale.write_text("half")
    assert not [p for p in store.path.parent.iterdir() if p.name.startswith(".") and p != stale]
    StateStore(store.path).close()
    assert not stale.exists()


def test_failed_write_raises_keeps_primary_and_removes_temp(store, monkeypatch):
    before = store.path.read_bytes()

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "write", full)
    with pytest.raises(StateWriteError) as caught, store.transaction() as state:
        state["cash"] = 1.0
    monkeypatch.undo()
    assert caught.value.cause.errno == errno.ENOSPC
    assert store.path.read_bytes() == before
    assert not list(store.path.parent.glob(f".*{atomic.TEMP_MARKER}*"))


def test_each_replace_keeps_a_backup_newest_n(tmp_path, state):
    store = StateStore(tmp_path / "s.json", keep_backups=3)
    store.initialize(state)
    for _ in range(6):
        with store.transaction() as s:
            s["cash"] += 1
    names = sorted(p.name for p in store.backup_dir.iterdir())
    assert len(names) == 3
    assert [n.split(".")[1] for n in names] == ["g000000000004", "g000000000005", "g000000000006"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],
        lambda raw: b"\0" * len(raw),
        lambda raw: raw[:40] + bytes([raw[40] ^ 0x01]) + raw[41:],
        lambda raw: raw.replace(b'"version":1', b'"version":0'),
        lambda raw: b"",
    ],
    ids=["truncated", "zero-filled", "bit-flip", "forged-version", "empty"],
)
def test_corruption_is_detected_kept_aside_and_backup_restored(store, damage, caplog):
    with store.transaction() as s:
        s["cash"] = 777.0
    good = store.load()
    with store.transaction() as s:
        s["cash"] = 888.0
    store.path.write_bytes(damage(store.path.read_bytes()))
    with caplog.at_level(logging.ERROR):
        doc = store.load()
    assert doc.state["cash"] == 777.0
    assert doc.generation == good.generation + 2  # past the generation that went bad: numbers never repeat
    assert store.counters.corrupt_fallback_count == 1
    assert len(list(store.quarantine_dir.iterdir())) == 1
    assert any("restored from backup" in r.message for r in caplog.records)
    assert store.load().state["cash"] == 777.0


def test_no_valid_copy_refuses_and_keeps_files(store):
    for backup in store.backup_dir.iterdir():
        backup.write_text("garbage")
    store.path.write_text("garbage")
    with pytest.raises(NoValidStateError) as caught:
        store.load()
    assert "--fresh" in str(caught.value)
    assert len(list(store.quarantine_dir.iterdir())) == 1


def test_initialize_refuses_over_traces_unless_forced(store, state):
    store.path.write_text("garbage")
    with pytest.raises(NoValidStateError):
        store.load()
    with pytest.raises(NoValidStateError):
        store.initialize(state)
    doc = store.initialize(state, force=True)
    assert store.load().generation == doc.generation


def test_newer_document_is_refused_and_never_overwritten(tmp_path, state):
    path = tmp_path / "s.json"
    path.write_bytes(encode(Document(state, 5, version=CURRENT_VERSION + 1)))
    before = path.read_bytes()
    store = StateStore(path)
    with pytest.raises(StateTooNewError), store.transaction():
        pass
    assert path.read_bytes() == before


@pytest.mark.parametrize("checksum", ["as written", "another algorithm's"])
def test_a_newer_document_is_refused_whatever_its_checksum_says(tmp_path, state, checksum):
    """Newer code may checksum otherwise: this code cannot judge the document, so it neither trusts nor replaces it."""
    store = StateStore(tmp_path / "s.json")
    store.initialize(state)
    with store.transaction() as s:
        s["cash"] = 1.0
    newer = encode(Document(state, 9, version=CURRENT_VERSION + 1))
    if checksum != "as written":
        newer = newer.replace(newer[13:77], hashlib.sha512(newer).hexdigest()[:64].encode())
    store.path.write_bytes(newer)
    with pytest.raises(StateTooNewError), StateStore(store.path) as again:
        again.load()
    assert store.path.read_bytes() == newer and not list(store.quarantine_dir.iterdir())


def test_legacy_document_is_backed_up_and_migrated(tmp_path):
    path = tmp_path / "live_portfolio.json"
    path.write_text(json.dumps(LEGACY))
    store = StateStore(path)
    doc = store.load()
    assert doc.generation == 1 and store.counters.migrated_count == 1
    assert doc.state["positions"]["BTC"]["position_id"] == "legacy-BTC-100.0"
    assert doc.state["emergency_stop"] == {"active": True, "reason": "drawdown", "at": None}
    assert doc.state["tier3_budget"] == 42
    kept = list(store.backup_dir.glob("*.legacy.*"))
    assert len(kept) == 1 and json.loads(kept[0].read_text()) == LEGACY
    again = StateStore(path).load()
    assert (again.state, again.generation) == (doc.state, doc.generation)


def test_migration_twice_changes_nothing():
    once = migrate_legacy(LEGACY)
    assert migrate_legacy(once) == once


def test_settings_change_is_logged_once(tmp_path, state, caplog):
    path = tmp_path / "s.json"
    StateStore(path, settings_hash="aaa").initialize(state)
    store = StateStore(path, settings_hash="bbb")
    with caplog.at_level(logging.WARNING):
        store.load()
        store.load()
    assert store.counters.settings_changed_count == 1
    assert sum("written under settings aaa" in r.message for r in caplog.records) == 1


def test_new_state_refused_where_no_flag(tmp_path):
    store = StateStore(tmp_path / "s.json")
    with pytest.raises(NoValidStateError):
        store.load()
    store.initialize(new_state(10.0, "now"))
    assert store.load().state["cash"] == 10.0


def test_lock_file_is_never_replaced(store):
    inode = os.stat(store.lock_path).st_ino
    with store.transaction():
        pass
    assert os.stat(store.lock_path).st_ino == inode


def forge(state: dict, generation: int) -> bytes:
    """A document with a valid checksum around any state, NaN included (as buggy code would write)."""
    fields = {"format": "tradebot-state", "version": 1, "generation": generation, "saved_at": "t", "state": state}
    body = compact(fields)
    return ('{"checksum":"' + hashlib.sha256(body.encode()).hexdigest() + '",' + body[1:]).encode()


@pytest.mark.parametrize(
    "spoil",
    [
        lambda s: s["closed_trades"].append("not a trade"),
        lambda s: s["positions"]["BTC"].update(qty=float("nan")),
        lambda s: s["positions"]["BTC"].update(stop_loss=1e309),
        lambda s: s.update(cash="1000"),
        lambda s: s["positions"].update(ETH=[1, 2]),
    ],
    ids=["trade-not-object", "nan-qty", "infinite-stop-loss", "cash-string", "position-not-object"],
)
def test_malformed_state_is_refused_on_save_and_on_load(store, spoil, caplog):
    with store.transaction() as s:
        s["cash"] = 777.0
    with store.transaction() as s:
        s["cash"] = 778.0
    before = store.path.read_bytes()
    with pytest.raises(InvalidStateError), store.transaction() as s:
        spoil(s)
    assert store.path.read_bytes() == before
    bad = json.loads(before)["state"]
    spoil(bad)
    store.path.write_bytes(forge(bad, 9))  # a checksum cannot vouch for the shape
    with caplog.at_level(logging.ERROR):
        assert store.load().state["cash"] == 777.0
    assert store.counters.corrupt_fallback_count == 1


def test_non_finite_numbers_are_never_written(store):
    with pytest.raises(InvalidStateError) as caught, store.transaction() as s:
        s["averages"] = {"BTC": float("inf")}
    assert "not finite" in str(caught.value)
    assert b"Infinity" not in store.path.read_bytes()


def test_generations_continue_past_a_backup_restored_by_hand(tmp_path, state):
    """The persistence guide's restore: copy a backup over the primary; the new timeline is kept."""
    store = StateStore(tmp_path / "s.json", keep_backups=4)
    store.initialize(state)
    for i in range(6):
        with store.transaction() as s:
            s["cash"] = float(i)
    old = sorted(store.backup_dir.iterdir())[0]  # generation 3: cash 1.0
    shutil.copyfile(old, store.path)
    hand = StateStore(store.path, keep_backups=4)
    with hand.transaction() as s:
        s["cash"] += 100.0
    assert hand.load().generation == 7  # past generation 6, the highest backup (7 itself was copied over)
    for _ in range(5):
        with hand.transaction() as s:
            s["cash"] += 1.0
    assert [json.loads(p.read_bytes())["state"]["cash"] for p in backups.newest_first(hand.path, hand.backup_dir)] == [
        105.0,
        104.0,
        103.0,
        102.0,
    ]
    hand.path.write_bytes(b"garbage")
    assert hand.load().state["cash"] == 105.0  # the live timeline's newest, not the abandoned one's


def test_fallback_after_a_hand_restore_picks_the_restored_timeline(tmp_path, state):
    store = StateStore(tmp_path / "s.json")
    store.initialize(state)
    for i in range(4):
        with store.transaction() as s:
            s["cash"] = float(i)
    shutil.copyfile(sorted(store.backup_dir.iterdir())[0], store.path)  # generation 1: cash 1000
    with StateStore(store.path) as hand, hand.transaction() as s:
        s["cash"] = 42.0
    with StateStore(store.path) as hand, hand.transaction() as s:
        s["cash"] = 43.0
    store.path.write_bytes(b"garbage")
    with StateStore(store.path) as after:
        assert after.load().state["cash"] == 42.0
