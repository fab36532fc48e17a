"""StateHolder against a real store, with a second store as the other process (plan 1.1 + 1.4).

The reconcile plan's 30 tests (state-cross-process-reconcile-plan.md, section 6), each mapped to a
test here or elsewhere (H = this module, M = test_merge.py, S = test_store.py, W = test_worker.py,
B = test_bot.py, P = tests/process/test_status_and_signals.py).  Our store counts generations where
the plan compared mtimes, and a failed merge writes nothing where the plan fell back to a blind save
(issue 11: a blind save over a document we could not merge would lose the other side's update).

test_state_cross_process_reconcile_1_1:
 1 save_without_external_change_writes_normally    H test_save_without_external_change_writes_and_logs_nothing
 2 save_detects_external_mtime_bump                 H test_worker_stop_loss_survives_bot_save (conflict count 1)
 3 must_merge_preserves_worker_sl_update            H test_worker_stop_loss_survives_bot_save,
                                                    M test_disk_stop_loss_update_wins
 4 must_merge_preserves_worker_tp_update            M test_disk_take_profit_update_wins
 5 must_merge_preserves_bot_new_position            M test_new_position_in_memory_is_kept
 6 must_merge_drops_worker_closed_position          M test_position_closed_on_disk_is_dropped
 7 must_merge_preserves_ms_candidate_cooldowns      M test_bot_only_sections_come_from_memory
 8 must_merge_preserves_sl_cooldowns                M test_bot_only_sections_come_from_memory
 9 must_merge_unions_closed_trades                  M test_closed_trades_union
10 must_merge_dedups_closed_trades_by_position_id   M test_closed_trades_dedup_by_position_id_and_content,
                                                    M test_trades_are_ordered_by_close_time_without_duplicates
11 position_simultaneous_buy_close_collision        M test_simultaneous_open_and_close,
                                                    H test_worker_close_and_bot_open_both_survive
12 allow_abort_skips_write_and_increments_retry     H test_allow_abort_skips_write_and_counts_retry
13 allow_abort_path_does_not_lose_disk_state        H test_allow_abort_skips_write_and_counts_retry
                                                    (file bytes unchanged)
14 no_conflict_no_merge_call                        H test_no_conflict_never_calls_the_merge
15 atomic_tmp_rename_preserved                      S test_no_temp_files_left_and_stale_ones_cleaned_on_open,
                                                    S test_failed_write_raises_keeps_primary_and_removes_temp
16 json_validity_post_merge                         H test_saved_file_is_valid_json_with_generation
17 merge_failure_falls_back_to_blind_save           H test_merge_failure_is_an_error_that_writes_nothing,
                                                    H test_bot_reports_a_failed_merge_and_trades_on
18 worker_save_round_trip_unchanged                 W test_stop_loss_update_goes_through_the_store
19 partial_pending_marker_preserved                 M test_pending_marker_from_memory
20 source_label_logged                              H test_worker_stop_loss_survives_bot_save,
                                                    H test_allow_abort_skips_write_and_counts_retry

test_state_observability_1_4:
 1 coherence_dict_initialized                       H test_counters_start_at_zero
 2 reload_increments_jump_count                     H test_refresh_folds_in_external_change_and_counts_jump
 3 conflict_increments_count                        H test_worker_stop_loss_survives_bot_save
 4 retry_increments_on_abort                        H test_allow_abort_skips_write_and_counts_retry
 5 merged_count_increments                          H test_worker_stop_loss_survives_bot_save
 6 last_conflict_timestamp_updates (UTC ISO)        B test_last_conflict_at_is_utc_iso_time
 7 last_merge_summary_populated                     H test_worker_stop_loss_survives_bot_save (fields_taken_from_disk)
 8 bot_status_metadata_contains_state_coherence     P test_coherence_counters_in_heartbeat_and_status
                                                    (the heartbeat is our bot status; status --json)
 9 no_log_spam_when_no_conflict                     H test_save_without_external_change_writes_and_logs_nothing,
                                                    H test_own_saves_are_not_conflicts
10 log_message_format_includes_source               H test_worker_stop_loss_survives_bot_save,
                                                    H test_allow_abort_skips_write_and_counts_retry
"""

from __future__ import annotations

import copy
import json
import logging

import pytest

from tests.unit.trading.factories import position
from trading import handlers, portfolio
from trading.bot import Bot, apply_action
from trading.config import Settings
from trading.errors import MergeError, StateError
from trading.store.archive import TradeArchive, every_trade, read_segment, segments
from trading.store.document import utcnow
from trading.store.holder import StateHolder
from trading.store.migrations import new_state
from trading.store.persistence import StateStore
from trading.strategy import Close, Params


@pytest.fixture
def holder(store):
    return StateHolder(store)


@pytest.fixture
def other(store):
    with StateStore(store.path) as s:
        yield s


def coherence_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "[STATE-COHERENCE]" in r.getMessage()]


def test_counters_start_at_zero(holder):
    c = holder.counters()
    assert c["generation_jump_count"] == c["save_conflict_count"] == c["save_merged_count"] == 0
    assert c["save_retry_count"] == 0 and c["last_conflict_at"] is None


def test_save_without_external_change_writes_and_logs_nothing(holder, caplog):
    holder.state["cash"] = 5.0
    with caplog.at_level(logging.INFO):
        assert holder.save("trade") is True
    assert holder.store.load().state["cash"] == 5.0
    assert holder.counters()["save_conflict_count"] == 0
    assert coherence_lines(caplog) == []


def test_no_conflict_never_calls_the_merge(holder, monkeypatch):
    def never(*_args):
        raise AssertionError("merge called without a conflict")

    monkeypatch.setattr("trading.store.holder.merge_states", never)
    for i in range(3):
        holder.state["cash"] = float(i)
        assert holder.save("trade") is True
        assert holder.refresh() is False
    assert holder.store.load().state["cash"] == 2.0


def test_worker_stop_loss_survives_bot_save(holder, other, caplog):
    with other.transaction() as s:
        s["positions"]["BTC"]["stop_loss"] = 12.0
    holder.state["positions"]["BTC"]["current_price"] = 101.0
    with caplog.at_level(logging.INFO):
        holder.save("trade")
    saved = holder.store.load().state["positions"]["BTC"]
    assert saved["stop_loss"] == 12.0 and saved["current_price"] == 101.0
    c = holder.counters()
    assert c["save_conflict_count"] == 1 and c["save_merged_count"] == 1
    assert c["last_merge_source"] == "trade" and c["last_merge_summary"]["fields_taken_from_disk"] == 1
    assert c["last_conflict_at"] is not None
    assert any("pre-save generation conflict, source=trade" in m for m in coherence_lines(caplog))
    assert any("merged external update, source=trade" in m for m in coherence_lines(caplog))


def test_worker_close_and_bot_open_both_survive(holder, other):
    with other.transaction() as s:
        del s["positions"]["BTC"]
        s["cash"] += 100.0
        s["closed_trades"].append({"position_id": "btc-1", "pnl": 0.0})
    holder.state["positions"]["ETH"] = position("ETH", "eth-1")
    holder.state["cash"] -= 100.0
    holder.save("trade")
    saved = holder.store.load().state
    assert set(saved["positions"]) == {"ETH"}
    assert saved["cash"] == 1000.0
    assert [t["position_id"] for t in saved["closed_trades"]] == ["btc-1"]


def test_allow_abort_skips_write_and_counts_retry(holder, other, caplog):
    with other.transaction() as s:
        s["positions"]["BTC"]["take_profit"] = 200.0
    on_disk = holder.store.path.read_bytes()
    holder.state["sl_cooldowns"]["BTC"] = 3
    with caplog.at_level(logging.WARNING):
        assert holder.save("periodic", allow_abort=True) is False
    assert holder.store.path.read_bytes() == on_disk
    assert holder.counters()["save_retry_count"] == 1
    assert any("save aborted, source=periodic" in m for m in coherence_lines(caplog))


def test_refresh_folds_in_external_change_and_counts_jump(holder, other):
    assert holder.refresh() is False
    with other.transaction() as s:
        s["positions"]["BTC"]["stop_loss"] = 33.0
    holder.state["sl_cooldowns"]["SOL"] = 9
    assert holder.refresh() is True
    assert holder.counters()["generation_jump_count"] == 1
    assert holder.state["positions"]["BTC"]["stop_loss"] == 33.0
    assert holder.state["sl_cooldowns"]["SOL"] == 9
    holder.save("trade")
    assert holder.counters()["save_conflict_count"] == 0


def test_own_saves_are_not_conflicts(holder):
    for i in range(5):
        holder.state["cash"] = float(i)
        holder.save("trade")
    assert holder.counters()["save_conflict_count"] == 0
    assert holder.refresh() is False


def test_saved_file_is_valid_json_with_generation(holder, other):
    with other.transaction() as s:
        s["positions"]["BTC"]["stop_loss"] = 1.0
    holder.save("trade")
    doc = json.loads(holder.store.path.read_text())
    assert doc["generation"] == holder.generation == 3


def test_memory_is_independent_of_the_base_snapshot(holder, other):
    holder.state["positions"]["BTC"]["stop_loss"] = 70.0
    with other.transaction() as s:
        s["cash"] = 1.0
    holder.save("trade")
    holder.state["positions"]["BTC"]["stop_loss"] = 60.0
    assert holder.base["positions"]["BTC"]["stop_loss"] == 70.0


def test_both_sides_close_one_position_is_paid_once_on_disk(tmp_path):
    """Issue 11's race on the real store: the worker closes BTC at its mark 120, the bot by its stop loss at 95."""
    start = new_state(1000.0, "t0")
    start["ticks"] = 0
    portfolio.open_position(start, position("BTC", "btc-1", current_price=120.0))
    with StateStore(tmp_path / "live_portfolio.json") as store, StateStore(store.path) as worker:
        store.initialize(start)
        holder = StateHolder(store)
        job = handlers.Job(worker, 1, lambda ids: set(ids), 0.05)
        handlers.close_position(job, {"symbol": "BTC", "price": None, "position_id": None})
        apply_action(holder.state, Close("BTC", 95.0, "stop_loss"), Params(), utcnow())
        holder.save("trade")
        saved = store.load().state
    assert saved["cash"] == 1020.0 and saved["positions"] == {}
    assert [t["exit_price"] for t in saved["closed_trades"]] == [120.0]
    assert saved["sl_cooldowns"] == {} and holder.state == saved


def test_merge_failure_is_an_error_that_writes_nothing(holder, other, monkeypatch, caplog):
    with other.transaction() as s:
        s["positions"]["BTC"]["stop_loss"] = 12.0
    on_disk = holder.store.path.read_bytes()
    memory = copy.deepcopy(holder.state)

    def broken(*_args):
        raise AttributeError("'str' object has no attribute 'get'")

    monkeypatch.setattr("trading.store.holder.merge_states", broken)
    with caplog.at_level(logging.ERROR), pytest.raises(MergeError) as caught:
        holder.save("trade")
    assert isinstance(caught.value, StateError) and "Nothing was written" in str(caught.value)
    assert holder.store.path.read_bytes() == on_disk and holder.state == memory
    assert holder.counters()["merge_failed_count"] == 1
    assert any("merge failed, source=trade" in m for m in coherence_lines(caplog))


def test_bot_reports_a_failed_merge_and_trades_on(tmp_path, holder, other, monkeypatch, caplog):
    bot = Bot(Settings(state_dir=tmp_path), holder)
    with other.transaction() as s:
        s["positions"]["BTC"]["take_profit"] = 500.0
    monkeypatch.setattr("trading.store.holder.merge_states", lambda *_: {}["boom"])
    with caplog.at_level(logging.ERROR):
        bot.tick()
        bot.save("trade")
    assert bot.save_errors >= 2
    assert any("save failed, source=trade" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    bot.save("trade")
    assert holder.store.load().state["positions"]["BTC"]["take_profit"] == 500.0


@pytest.mark.parametrize("with_worker", [False, True])
def test_trades_the_store_archives_leave_memory_once(tmp_path, with_worker):
    with StateStore(tmp_path / "live_portfolio.json") as store, StateStore(store.path) as worker:
        store.archive = TradeArchive(store.archive.directory, keep=5, batch=3)
        worker.archive = store.archive
        store.initialize(new_state(1000.0, "t0"))
        holder = StateHolder(store)
        for i in range(40):
            holder.state["closed_trades"].append({"position_id": f"h-{i}", "pnl": 1.0, "closed_at": f"{i:04d}a"})
            holder.state["cash"] += 1.0
            if with_worker and i % 3 == 0:
                with worker.transaction() as s:
                    s["closed_trades"].append({"position_id": f"w-{i}", "pnl": 1.0, "closed_at": f"{i:04d}b"})
                    s["cash"] += 1.0
            holder.save("trade")
        state = store.load().state
    assert len(holder.state["closed_trades"]) == len(state["closed_trades"]) < 10
    trades = every_trade(store.archive.directory, state)
    lines = [t for seg in segments(store.archive.directory) for t in read_segment(seg)]
    assert len(lines) == len({t["position_id"] for t in lines}) == state["trade_totals"]["archived_count"]
    assert portfolio.violations(state, trades) == [] and len(trades) == 40 + (14 if with_worker else 0)
