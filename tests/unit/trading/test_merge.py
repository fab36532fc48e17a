"""The reconcile plan's merge rules, as pure functions (plan tests 3-11, 19), and issue 11's races:
a position closed by both sides, and a close against a level change, is paid once."""

from __future__ import annotations

import copy

import pytest

from tests.unit.trading.factories import position
from trading import portfolio
from trading.bot import apply_action
from trading.store.merge import merge_states
from trading.store.migrations import new_state
from trading.strategy import Close, Open, Params


def three(state: dict) -> tuple[dict, dict, dict]:
    return copy.deepcopy(state), copy.deepcopy(state), copy.deepcopy(state)


def test_disk_stop_loss_update_wins(state):
    base, mine, disk = three(state)
    disk["positions"]["BTC"]["stop_loss"] = 12.0
    mine["positions"]["BTC"]["current_price"] = 101.0
    merged, summary = merge_states(base, mine, disk)
    assert merged["positions"]["BTC"]["stop_loss"] == 12.0
    assert merged["positions"]["BTC"]["current_price"] == 101.0
    assert summary["fields_taken_from_disk"] == 1


def test_disk_take_profit_update_wins(state):
    base, mine, disk = three(state)
    disk["positions"]["BTC"]["take_profit"] = 150.0
    assert merge_states(base, mine, disk)[0]["positions"]["BTC"]["take_profit"] == 150.0


def test_unchanged_disk_field_keeps_memory_change(state):
    base, mine, disk = three(state)
    mine["positions"]["BTC"]["stop_loss"] = 95.0
    assert merge_states(base, mine, disk)[0]["positions"]["BTC"]["stop_loss"] == 95.0


def test_new_position_in_memory_is_kept(state):
    base, mine, disk = three(state)
    mine["positions"]["ETH"] = position("ETH", "eth-1")
    assert "ETH" in merge_states(base, mine, disk)[0]["positions"]


def test_position_closed_on_disk_is_dropped(state):
    base, mine, disk = three(state)
    del disk["positions"]["BTC"]
    merged, summary = merge_states(base, mine, disk)
    assert "BTC" not in merged["positions"]
    assert summary["positions_closed_on_disk"] == 1


def test_position_dropped_in_memory_without_a_trade_stays_dropped(state):
    base, mine, disk = three(state)
    del mine["positions"]["BTC"]
    assert "BTC" not in merge_states(base, mine, disk)[0]["positions"]


def test_reopened_symbol_is_not_dropped_by_an_old_close(state):
    base, mine, disk = three(state)
    del disk["positions"]["BTC"]
    mine["positions"]["BTC"] = position("BTC", "btc-2")
    assert merge_states(base, mine, disk)[0]["positions"]["BTC"]["position_id"] == "btc-2"


def test_simultaneous_open_and_close(state):
    base, mine, disk = three(state)
    mine["positions"]["ETH"] = position("ETH", "eth-1")
    del disk["positions"]["BTC"]
    assert set(merge_states(base, mine, disk)[0]["positions"]) == {"ETH"}


def test_bot_only_sections_come_from_memory(state):
    base, mine, disk = three(state)
    mine["sl_cooldowns"]["BTC"] = 7
    mine["ms_candidate_cooldowns"] = {"SOL": 3}
    mine["repeat_loss_count"] = 2
    disk["repeat_loss_count"] = 0
    merged, _ = merge_states(base, mine, disk)
    assert merged["sl_cooldowns"] == {"BTC": 7}
    assert merged["ms_candidate_cooldowns"] == {"SOL": 3}
    assert merged["repeat_loss_count"] == 2


def test_closed_trades_union(state):
    base, mine, disk = three(state)
    disk["closed_trades"].append({"position_id": "a", "pnl": 1})
    mine["closed_trades"].append({"position_id": "b", "pnl": 2})
    merged, summary = merge_states(base, mine, disk)
    assert {t["position_id"] for t in merged["closed_trades"]} == {"a", "b"}
    assert summary["closed_trades_added_from_disk"] == 1


def test_closed_trades_dedup_by_position_id_and_content(state):
    state["closed_trades"] = [{"position_id": "a", "pnl": 1}, {"legacy": True}]
    base, mine, disk = three(state)
    assert merge_states(base, mine, disk)[0]["closed_trades"] == state["closed_trades"]


def test_pending_marker_from_memory(state):
    base, mine, disk = three(state)
    mine["positions"]["BTC"]["pending"] = True
    disk["positions"]["BTC"]["stop_loss"] = 80.0
    merged = merge_states(base, mine, disk)[0]["positions"]["BTC"]
    assert merged["pending"] is True and merged["stop_loss"] == 80.0


def test_cash_adds_the_other_sides_delta(state):
    base, mine, disk = three(state)
    mine["cash"] -= 100.0  # the bot bought
    disk["cash"] += 40.0  # the worker closed a position
    assert merge_states(base, mine, disk)[0]["cash"] == state["cash"] - 60.0


@pytest.fixture
def booked() -> dict:
    """1000 starting capital, BTC bought: 1 at 100 (cash 900), stop loss 96, two losses in a row."""
    s = new_state(1000.0, "t0")
    s.update(ticks=5, repeat_loss_count=2)
    portfolio.open_position(s, position("BTC", "btc-1", stop_loss=96.0))
    return s


def bot_close(state: dict, price: float, reason: str) -> None:
    apply_action(state, Close("BTC", price, reason), Params(), "t2")


def worker_close(state: dict, price: float) -> None:
    portfolio.close_position(state, "BTC", price, "command", "t1")


def test_position_closed_by_both_sides_is_paid_once(booked):
    base, mine, disk = three(booked)
    worker_close(disk, 120.0)
    bot_close(mine, 95.0, "stop_loss")
    assert mine["cash"] == 995.0 and mine["sl_cooldowns"] == {"BTC": 25} and mine["repeat_loss_count"] == 3
    merged, summary = merge_states(base, mine, disk)
    assert merged["cash"] == 1020.0  # the worker's close at 120 stands; the bot's at 95 is undone
    assert [(t["position_id"], t["exit_price"]) for t in merged["closed_trades"]] == [("btc-1", 120.0)]
    assert merged["positions"] == {} and merged["sl_cooldowns"] == {} and merged["repeat_loss_count"] == 2
    assert summary["closes_undone"] == 1
    assert portfolio.violations(merged, merged["closed_trades"]) == []


@pytest.mark.parametrize("field", ["stop_loss", "take_profit"])
def test_close_over_a_level_changed_on_disk_is_undone(booked, field):
    base, mine, disk = three(booked)
    disk["positions"]["BTC"][field] = 80.0 if field == "stop_loss" else 200.0
    bot_close(mine, 95.0, "stop_loss")
    merged, summary = merge_states(base, mine, disk)
    assert merged["cash"] == 900.0 and merged["closed_trades"] == []
    assert merged["positions"]["BTC"][field] == disk["positions"]["BTC"][field]
    assert merged["positions"]["BTC"]["position_id"] == "btc-1"
    assert merged["sl_cooldowns"] == {} and merged["repeat_loss_count"] == 2
    assert summary["closes_undone"] == 1


def test_worker_close_against_bot_close_and_reopen_of_the_symbol(booked):
    base, mine, disk = three(booked)
    worker_close(disk, 120.0)
    bot_close(mine, 110.0, "take_profit")
    apply_action(mine, Open("BTC", 1.0, 105.0, 100.0, 115.0), Params(), "t3")
    merged, _ = merge_states(base, mine, disk)
    assert merged["cash"] == 900.0 + 120.0 - 105.0
    assert merged["positions"]["BTC"]["position_id"] != "btc-1"
    assert [t["exit_price"] for t in merged["closed_trades"]] == [120.0]
    assert portfolio.violations(merged, merged["closed_trades"]) == []


def test_open_of_a_symbol_the_other_side_opened_first_is_undone(booked):
    base, mine, disk = three(booked)
    portfolio.open_position(disk, position("ETH", "eth-disk", entry_price=10.0))
    portfolio.open_position(mine, position("ETH", "eth-mine", entry_price=20.0))
    merged, summary = merge_states(base, mine, disk)
    assert merged["positions"]["ETH"]["position_id"] == "eth-disk" and merged["cash"] == 890.0
    assert summary["opens_undone"] == 1


def test_close_that_disk_does_not_contradict_stands(booked):
    base, mine, disk = three(booked)
    disk["positions"]["BTC"]["current_price"] = 97.0  # not a level: the bot's close stands
    bot_close(mine, 95.0, "stop_loss")
    merged, summary = merge_states(base, mine, disk)
    assert merged["cash"] == 995.0 and "BTC" not in merged["positions"] and merged["repeat_loss_count"] == 3
    assert "closes_undone" not in summary


def test_trades_are_ordered_by_close_time_without_duplicates(booked):
    booked["closed_trades"] = [{"position_id": "a", "closed_at": "2026-01-01T00:00:01", "pnl": 0.0}]
    base, mine, disk = three(booked)
    disk["closed_trades"].append({"position_id": "c", "closed_at": "2026-01-01T00:00:03", "pnl": 0.0})
    mine["closed_trades"].append({"position_id": "b", "closed_at": "2026-01-01T00:00:02", "pnl": 0.0})
    mine["closed_trades"].append(dict(disk["closed_trades"][0]))
    merged, _ = merge_states(base, mine, disk)
    assert [t["position_id"] for t in merged["closed_trades"]] == ["a", "b", "c"]


def test_trades_the_store_archived_are_not_brought_back(booked):
    booked["closed_trades"] = [{"position_id": "old", "closed_at": "t0", "pnl": 1.0}]
    base, mine, disk = three(booked)
    disk["closed_trades"] = []
    disk["trade_totals"] = {"archived_count": 1, "archived_pnl": 1.0}
    merged, _ = merge_states(base, mine, disk)
    assert merged["closed_trades"] == [] and merged["trade_totals"] == disk["trade_totals"]


def test_the_workers_record_of_applied_commands_is_the_disks(booked):
    base, mine, disk = three(booked)
    disk["applied_commands"] = {"7": {"old": None, "new": 40.0}}
    merged, _ = merge_states(base, mine, disk)
    assert merged["applied_commands"] == disk["applied_commands"]
