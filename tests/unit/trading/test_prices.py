"""Where prices come from (the feed a setting names) and which of them the bot may act on (marks)."""

from __future__ import annotations

import json
import math

import pytest

from tests.unit.trading.factories import position
from trading.bot import Bot
from trading.config import Settings, from_env
from trading.errors import SettingsError
from trading.feed import FileFeed, RandomWalkFeed, open_feed
from trading.marks import Gate, last_marks, priced_symbols
from trading.store.holder import StateHolder
from trading.strategy import Params, decide, update_averages


def test_the_last_mark_is_the_last_price_else_the_positions_price_else_its_entry(state):
    state["positions"]["ETH"] = position("ETH", "eth-1", current_price=None, entry_price=50.0)
    state["positions"]["SOL"] = position("SOL", "sol-1", current_price=None, entry_price=0.0)
    state["last_prices"] = {"BTC": 101.0, "XRP": 0.5}
    assert last_marks(state) == {"BTC": 101.0, "ETH": 50.0, "XRP": 0.5}


def test_held_symbols_outside_the_traded_list_are_priced_too(state):
    state["positions"]["DOGE"] = position("DOGE", "doge-1")
    assert priced_symbols(("ETH", "BTC"), state) == ("ETH", "BTC", "DOGE")


def test_a_price_far_from_its_mark_is_held_back_until_one_meets_it():
    gate = Gate({"BTC": 92_100.0, "ETH": 3_100.0}, max_gap=0.05)
    assert gate.admit({"BTC": 60_321.0, "ETH": 3_050.0, "SOL": 150.0}) == {"ETH": 3_050.0, "SOL": 150.0}
    assert gate.held == {"BTC": 60_321.0} and gate.waiting == {"BTC": 92_100.0}
    assert gate.admit({"BTC": 60_000.0}) == {}
    assert gate.admit({"BTC": 90_000.0}) == {"BTC": 90_000.0} and gate.waiting == {} and gate.held == {}
    assert gate.admit({"BTC": 30_000.0}) == {"BTC": 30_000.0}  # once met, a gap is the market's


def test_the_random_walk_resumes_from_the_marks():
    feed = open_feed("random-walk", ("BTCUSDT", "DOGEUSDT", "NEWUSDT"), {"BTCUSDT": 92_100.0, "DOGEUSDT": 0.162}, 42)
    first = feed.step()
    for sym, start in (("BTCUSDT", 92_100.0), ("DOGEUSDT", 0.162), ("NEWUSDT", 100.0)):
        assert math.isclose(first[sym], start, rel_tol=0.03)
    assert isinstance(feed, RandomWalkFeed)


def test_the_file_feed_reads_our_symbols_finite_positive_prices_each_step(tmp_path):
    path = tmp_path / "prices.json"
    feed = open_feed(f"file:{path}", ("BTC", "ETH", "SOL", "XRP"), {}, 42)
    assert isinstance(feed, FileFeed) and feed.step() == {}
    path.write_text('{"BTC": 101.5, "ETH": -1, "SOL": "150", "XRP": true, "DOGE": 0.1}')
    assert feed.step() == {"BTC": 101.5}
    path.write_text('{"BTC": 1e999}')  # json reads Infinity
    assert feed.step() == {}
    path.write_text('{"BTC": 102')  # a writer that is not atomic: nothing this tick
    assert feed.step() == {}


@pytest.mark.parametrize("spec", ["nasdaq", "file:prices.json", ""])
def test_a_feed_setting_that_names_no_feed_is_refused(spec):
    if not spec:
        assert from_env({"TRADEBOT_FEED": spec}).feed == "random-walk"
        return
    with pytest.raises(SettingsError) as caught:
        from_env({"TRADEBOT_FEED": spec, "TRADEBOT_MAX_PRICE_GAP": "-1"})
    assert f"TRADEBOT_FEED={spec!r}" in str(caught.value) and "TRADEBOT_MAX_PRICE_GAP='-1'" in str(caught.value)


def test_the_feed_is_part_of_the_settings_hash_only_when_not_the_default():
    default = from_env({})
    assert default.settings_hash() == from_env({"TRADEBOT_FEED": "random-walk"}).settings_hash()
    assert default.settings_hash() != from_env({"TRADEBOT_FEED": "file:/p.json"}).settings_hash()


def test_only_traded_symbols_open_and_an_unpriced_symbol_keeps_its_average(state):
    del state["positions"]["BTC"]
    dips = {"DOGE": 90.0, "SOL": 90.0}
    assert [a.symbol for a in decide(state, dips, {"DOGE": 100.0, "SOL": 100.0}, 0, Params(), ("SOL",))] == ["SOL"]
    assert update_averages({"DOGE": 1.0, "SOL": 2.0}, {"SOL": 4.0}, 0.5) == {"DOGE": 1.0, "SOL": 3.0}


def test_the_bot_neither_marks_nor_closes_on_a_price_far_from_the_mark(tmp_path, store):
    prices = tmp_path / "prices.json"
    bot = Bot(Settings(state_dir=tmp_path, symbols=("BTC",), feed=f"file:{prices}"), StateHolder(store))
    prices.write_text(json.dumps({"BTC": 60.0}))  # below the stop loss (90), 40 % from the mark (100)
    bot.tick()
    bot.save("test")
    assert store.load().state["positions"]["BTC"]["current_price"] == 100.0
    prices.write_text(json.dumps({"BTC": 97.0}))
    bot.tick()
    assert bot.holder.state["positions"]["BTC"]["current_price"] == 97.0
    prices.write_text(json.dumps({"BTC": 80.0}))  # the mark was met: this is the market, the stop fires
    bot.tick()
    assert "BTC" not in store.load().state["positions"]
