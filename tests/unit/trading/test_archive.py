"""The closed-trades archive: newest N in the document, the rest appended, none lost or doubled."""

from __future__ import annotations

import pytest

from trading import portfolio
from trading.errors import NoValidStateError, StateWriteError
from trading.store import archive as archive_module
from trading.store import persistence
from trading.store.archive import TradeArchive, every_trade, segments
from trading.store.migrations import new_state
from trading.store.persistence import StateStore


def trade(i: int) -> dict:
    return {"position_id": f"p-{i}", "symbol": "BTC", "pnl": float(i), "closed_at": f"2026-01-01T00:{i:05d}"}


@pytest.fixture
def small(tmp_path):
    store = StateStore(tmp_path / "live_portfolio.json")
    store.archive = TradeArchive(store.archive.directory, keep=5, batch=3, segment_bytes=400)
    store.initialize(new_state(1000.0, "t0"))
    yield store
    store.close()


def close_trades(store: StateStore, ids: range) -> None:
    for i in ids:
        with store.transaction() as s:
            s["closed_trades"].append(trade(i))


def test_document_keeps_the_newest_and_totals_count_the_rest(small):
    close_trades(small, range(7))
    assert len(small.load().state["closed_trades"]) == 7  # below keep + batch: nothing moved yet
    close_trades(small, range(7, 20))
    state = small.load().state
    assert 5 <= len(state["closed_trades"]) < 8
    totals = state["trade_totals"]
    assert totals["archived_count"] + len(state["closed_trades"]) == 20
    assert totals["archived_pnl"] + sum(t["pnl"] for t in state["closed_trades"]) == sum(range(20))
    assert [t["position_id"] for t in every_trade(small.archive.directory, state)] == [f"p-{i}" for i in range(20)]


def test_archive_rotates_into_segments_and_never_rewrites_one(small):
    close_trades(small, range(30))
    names = segments(small.archive.directory)
    assert len(names) >= 2
    first = names[0].read_bytes()
    close_trades(small, range(30, 60))
    assert names[0].read_bytes() == first
    state = small.load().state
    assert len(every_trade(small.archive.directory, state)) == 60


def test_crash_between_archive_append_and_document_write_loses_and_doubles_nothing(small, monkeypatch):
    close_trades(small, range(7))

    def crash(*_args, **_kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(persistence, "replace_file", crash)
    with pytest.raises(StateWriteError), small.transaction() as s:
        s["closed_trades"].append(trade(7))  # the archive got trades 0-2, the document was not written
    monkeypatch.undo()
    assert len(small.load().state["closed_trades"]) == 7
    close_trades(small, range(7, 12))
    state = small.load().state
    lines = [t for seg in segments(small.archive.directory) for t in archive_module.read_segment(seg)]
    assert len(lines) == len({t["position_id"] for t in lines})
    assert [t["position_id"] for t in every_trade(small.archive.directory, state)] == [f"p-{i}" for i in range(12)]
    assert state["trade_totals"]["archived_count"] + len(state["closed_trades"]) == 12


def test_a_torn_last_line_is_skipped_and_the_next_append_stays_whole(small):
    close_trades(small, range(8))
    segment = segments(small.archive.directory)[-1]
    with open(segment, "ab") as f:
        f.write(b'{"position_id": "torn')
    close_trades(small, range(8, 16))
    state = small.load().state
    assert [t["position_id"] for t in every_trade(small.archive.directory, state)] == [f"p-{i}" for i in range(16)]


def test_a_fresh_state_starts_with_no_archive_the_old_one_kept_aside(small):
    close_trades(small, range(20))
    old = {p.name: p.read_bytes() for p in segments(small.archive.directory)}
    assert old
    for copy in [small.path, *small.backup_dir.iterdir()]:
        copy.unlink()  # the state and its backups gone; the archive remains, a trace of that state
    with pytest.raises(NoValidStateError) as refused:
        small.initialize(new_state(500.0, "t1"))
    assert "closed_trades.000001.jsonl" in str(refused.value)
    fresh = small.initialize(new_state(500.0, "t1"), force=True)  # what `bot --fresh` does
    assert every_trade(small.archive.directory, fresh.state) == []
    assert portfolio.violations(fresh.state, every_trade(small.archive.directory, fresh.state)) == []
    (kept,) = [d for d in small.archive.directory.iterdir() if d.is_dir()]
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == old
