"""The books balance after every round of a real worker racing a real bot on the same positions.

cash = starting capital + realised P&L of every closed trade (archive included) - cost of the open
positions, one closed trade per position id, no open position with a closed trade: checked on disk
after each round (``tests/process/races.py``), and once more after the bot's final save.
"""

from __future__ import annotations

import signal

import pytest

from tests.process.conftest import beat, saved
from testsupport.races import check, race
from testsupport.waiting import wait_for
from trading.config import Settings

pytestmark = pytest.mark.slow
RACING = {"TRADEBOT_TICK_SECONDS": "0.005", "TRADEBOT_SAVE_SECONDS": "0.05", "TRADEBOT_STARTING_CAPITAL": "1000"}


def test_books_balance_in_every_round_of_worker_against_bot(state_dir, spawn):
    bot = spawn("bot", "--fresh", **RACING)
    spawn("worker", TRADEBOT_WORKER_POLL_SECONDS="0.002")
    wait_for(lambda: beat(state_dir).get("ticks"), what="the bot's first tick")
    wait_for(lambda: saved(state_dir)["state"]["positions"], what="an open position")
    tally = race(Settings(state_dir=state_dir), rounds=40)
    assert tally.rounds == 40
    assert tally.violations == []
    assert tally.outcomes.get("succeeded", 0) > 0
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=10) == 0
    assert check(Settings(state_dir=state_dir)) == []
    assert len(saved(state_dir)["state"]["closed_trades"]) > 0
