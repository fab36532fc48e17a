"""The bot's own rules on a real store: the drawdown trigger, and the conflict time it reports."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from trading.bot import Bot
from trading.config import Settings
from trading.store.holder import StateHolder
from trading.store.persistence import StateStore


def test_drawdown_beyond_the_limit_sets_and_saves_the_emergency_stop(tmp_path, store, caplog):
    bot = Bot(Settings(state_dir=tmp_path, max_drawdown=0.2), StateHolder(store))
    bot.holder.state["positions"]["BTC"].update(qty=10.0, current_price=100.0)
    bot.holder.state["cash"] = 0.0  # equity 1000 of 1000: no drawdown
    bot.check_drawdown()
    assert not store.load().state["emergency_stop"]["active"]
    bot.holder.state["positions"]["BTC"]["current_price"] = 79.0  # equity 790: 21 % down
    with caplog.at_level(logging.ERROR):
        bot.check_drawdown()
    stop = store.load().state["emergency_stop"]
    assert stop["active"] and "21.00% >= 20.00%" in stop["reason"]
    assert any("EMERGENCY STOP" in r.getMessage() for r in caplog.records)
    assert bot.tick() is None and "BTC" in store.load().state["positions"]  # halted: no trade, no close


def test_last_conflict_at_is_utc_iso_time(store):
    holder = StateHolder(store)
    with StateStore(store.path) as other, other.transaction() as s:
        s["cash"] = 1.0
    holder.save("trade")
    at = datetime.fromisoformat(holder.counters()["last_conflict_at"])
    assert at.utcoffset() == timedelta(0)
    assert abs((datetime.now(at.tzinfo) - at).total_seconds()) < 60
