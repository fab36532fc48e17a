"""The reconcile plan's merge rules, as pure functions (plan tests 3-11, 19)."""

from __future__ import annotations

import copy

from tests.unit.trading.factories import position
from trading.store.merge import merge_states


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


def test_position_closed_in_memory_stays_closed_despite_disk_sl_change(state):
    base, mine, disk = three(state)
    del mine["positions"]["BTC"]
    disk["positions"]["BTC"]["stop_loss"] = 50.0
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
