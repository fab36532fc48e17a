"""Strategy decisions, portfolio arithmetic and the health verdict: pure functions."""

from __future__ import annotations

import os

import pytest

from trading.cli import main
from trading.config import from_env
from trading.errors import SettingsError
from trading.feed import RandomWalkFeed
from trading.heartbeat import process_start, verdict
from trading.portfolio import close_position, drawdown, set_emergency_stop
from trading.strategy import Close, Open, Params, decide, recheck

TRADED = ("BTC", "ETH", "SOL")


def test_stop_loss_and_take_profit_close(state):
    state["positions"]["ETH"] = {**state["positions"]["BTC"], "symbol": "ETH", "position_id": "e"}
    actions = decide(state, {"BTC": 89.0, "ETH": 111.0}, {}, 0, Params(), TRADED)
    assert actions == [Close("BTC", 89.0, "stop_loss"), Close("ETH", 111.0, "take_profit")]


def test_a_decision_is_taken_again_on_the_state_as_it_is_now(state):
    close = Close("BTC", 89.0, "stop_loss")
    assert recheck(close, state) == close
    state["positions"]["BTC"]["stop_loss"] = 80.0  # the worker moved the stop away
    assert recheck(close, state) is None
    state["positions"]["BTC"]["take_profit"] = 85.0  # ... and the take profit below the price
    assert recheck(close, state) == Close("BTC", 89.0, "take_profit")
    del state["positions"]["BTC"]  # the worker closed it
    assert recheck(close, state) is None
    opening = Open("BTC", 1.0, 89.0, 80.0, 95.0)
    assert recheck(opening, state) == opening
    set_emergency_stop(state, "drawdown", "now")
    assert recheck(opening, state) is None


def test_pending_position_is_left_alone(state):
    state["positions"]["BTC"]["pending"] = True
    assert decide(state, {"BTC": 1.0}, {}, 0, Params(), TRADED) == []


def test_dip_below_average_opens_with_sl_and_tp(state):
    actions = decide(state, {"SOL": 90.0}, {"SOL": 100.0}, 0, Params(), TRADED)
    assert len(actions) == 1 and isinstance(actions[0], Open)
    assert actions[0].qty == pytest.approx(100.0 / 90.0)
    assert actions[0].stop_loss == pytest.approx(88.2) and actions[0].take_profit == pytest.approx(92.7)


def test_cooldown_and_emergency_stop_block_entries(state):
    state["sl_cooldowns"]["SOL"] = 10
    assert decide(state, {"SOL": 90.0}, {"SOL": 100.0}, 5, Params(), TRADED) == []
    assert decide(state, {"SOL": 90.0}, {"SOL": 100.0}, 10, Params(), TRADED) != []
    set_emergency_stop(state, "drawdown", "now")
    assert decide(state, {"SOL": 90.0, "BTC": 1.0}, {"SOL": 100.0}, 10, Params(), TRADED) == []


def test_close_position_and_drawdown(state):
    state["cash"] = 900.0
    trade = close_position(state, "BTC", 50.0, "command", "now")
    assert trade["pnl"] == -50.0 and state["cash"] == 950.0
    assert drawdown(state) == pytest.approx(0.05)


def test_feed_is_deterministic_per_seed():
    a, b = RandomWalkFeed(("X",), 1), RandomWalkFeed(("X",), 1)
    assert [a.step() for _ in range(5)] == [b.step() for _ in range(5)]
    assert RandomWalkFeed(("X",), 2).step() != RandomWalkFeed(("X",), 1).step()


def started(pid: int) -> str | None:
    return "500" if pid == 7 else None


@pytest.mark.parametrize(
    ("doc", "expect"),
    [
        (None, "no heartbeat"),
        ({"last_tick_ts": 80.0, "hostname": "h", "pid": 7, "process_start": "500"}, "old"),
        ({"last_tick_ts": 99.0, "hostname": "x", "pid": 7, "process_start": "500"}, "replaced container"),
        ({"last_tick_ts": 99.0, "hostname": "h", "pid": 8, "process_start": "500"}, "gone"),
        ({"last_tick_ts": 99.0, "hostname": "h", "pid": 7, "process_start": "499"}, "gone"),  # pid reused
        ({"last_tick_ts": 99.0, "hostname": "h", "pid": 7}, "gone"),  # an older heartbeat without its start
        ({"last_tick_ts": 99.0, "hostname": "h", "pid": 7, "process_start": "500"}, None),
    ],
)
def test_health_verdict(doc, expect):
    why = verdict(doc, 100.0, 15.0, "h", started)
    assert why == expect if expect is None else expect in why


def test_process_start_names_this_process_and_nothing_for_a_gone_one():
    assert process_start(os.getpid()) == process_start(os.getpid()) is not None
    assert process_start(0) is None and process_start(2**22 + 1) is None


def test_settings_from_env_and_max_age():
    s = from_env({"TRADEBOT_STATE_DIR": "/s", "TRADEBOT_TICK_SECONDS": "4", "TRADEBOT_SYMBOLS": "A, B"})
    assert s.symbols == ("A", "B") and s.max_age() == 20.0
    assert from_env({}).max_age() == 15.0
    assert s.settings_hash() != from_env({"TRADEBOT_SYMBOLS": "A"}).settings_hash()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TRADEBOT_TICK_SECONDS": "abc"}, "TRADEBOT_TICK_SECONDS='abc'"),
        ({"TRADEBOT_TICK_SECONDS": "0"}, "TRADEBOT_TICK_SECONDS='0'"),
        ({"TRADEBOT_WORKER_POLL_SECONDS": "nan"}, "TRADEBOT_WORKER_POLL_SECONDS"),
        ({"TRADEBOT_MAX_DRAWDOWN": "1.5"}, "TRADEBOT_MAX_DRAWDOWN"),
        ({"TRADEBOT_SEED": "4.2"}, "TRADEBOT_SEED"),
        ({"TRADEBOT_SYMBOLS": " , "}, "TRADEBOT_SYMBOLS"),
        ({"TRADEBOT_ROLE": "trader"}, "TRADEBOT_ROLE"),
    ],
)
def test_a_malformed_setting_is_named(env, named):
    with pytest.raises(SettingsError) as caught:
        from_env(env)
    assert named in str(caught.value) and caught.value.exit_code == 9


def test_check_config_exits_9_naming_the_setting(capsys, monkeypatch):
    monkeypatch.setenv("TRADEBOT_TICK_SECONDS", "abc")
    assert main(["check-config"]) == 9
    assert "TRADEBOT_TICK_SECONDS='abc'" in capsys.readouterr().out
    monkeypatch.setenv("TRADEBOT_TICK_SECONDS", "0.5")
    assert main(["check-config"]) == 0
