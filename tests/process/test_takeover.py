"""A bot taking over a legacy state (right after a volume rebuild): it trades on prices continuous with
the state's last marks, prices every position it holds, and its emergency stop sees the legacy capital.

The legacy document is the seed's shape with stops set and a position in a symbol outside the traded
list (DOGEUSDT); the bot runs with the default feed and symbols, as a deploy after a rebuild does.
"""

from __future__ import annotations

import json
import signal

import pytest

from tests.process.conftest import beat, run_cli, saved
from testsupport.legacy import TAKEOVER
from testsupport.waiting import wait_for

pytestmark = pytest.mark.slow
FAST = {"TRADEBOT_TICK_SECONDS": "0.01", "TRADEBOT_SAVE_SECONDS": "0.05"}
LEGACY_COST = sum(p["quantity"] * p["entry_price"] for p in TAKEOVER["positions"].values())


def near(price: float, mark: float, gap: float = 0.1) -> bool:
    return abs(price / mark - 1.0) <= gap


def test_a_legacy_takeover_trades_on_the_states_marks_and_prices_every_position(state_dir, spawn):
    (state_dir / "live_portfolio.json").write_text(json.dumps(TAKEOVER))
    bot = spawn("bot", **FAST)
    wait_for(lambda: beat(state_dir).get("ticks", 0) >= 40, what="40 ticks")
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=10) == 0, bot.communicate()[1]
    state = saved(state_dir)["state"]
    marks = {sym: pos["current_price"] for sym, pos in TAKEOVER["positions"].items()}
    legacy_trades = len(TAKEOVER["closed_trades"])
    closes = [t for t in state["closed_trades"][legacy_trades:] if t["symbol"] in marks]
    assert all(near(t["exit_price"], marks[t["symbol"]]) for t in closes), closes
    for sym, pos in state["positions"].items():
        if sym in marks:
            assert pos["current_price"] != marks[sym] and near(pos["current_price"], marks[sym]), (sym, pos)
    assert "DOGEUSDT" in state["positions"] or any(t["symbol"] == "DOGEUSDT" for t in closes)
    assert state["starting_capital"] == pytest.approx(TAKEOVER["cash"] + LEGACY_COST)
    shown = run_cli(state_dir, "status").stdout
    assert "DOGEUSDT" in shown and "mark" in shown
