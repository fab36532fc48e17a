"""A legacy document's migration: the capital its drawdown measures from, and positions kept as a list."""

from __future__ import annotations

import json
import logging

import pytest

from trading import portfolio
from trading.bot import Bot
from trading.config import Settings
from trading.errors import MigrationError
from trading.store.holder import StateHolder
from trading.store.migrations import inferences, migrate_legacy
from trading.store.peek import peek
from trading.store.persistence import StateStore

LEGACY = {  # the seed's shape: no starting capital, two open positions, one closed trade with its pnl
    "cash": 5000.0,
    "positions": {
        "BTCUSDT": {"quantity": 0.1, "entry_price": 90_000.0, "current_price": 92_000.0},
        "ETHUSDT": {"quantity": 2.0, "entry_price": 3_000.0, "current_price": 3_100.0},
    },
    "closed_trades": [{"symbol": "SOLUSDT", "pnl": 120.0}],
}


def test_starting_capital_is_inferred_so_the_books_balance_and_said():
    state = migrate_legacy(LEGACY)
    assert state["starting_capital"] == 5000.0 + 9000.0 + 6000.0 - 120.0
    assert portfolio.violations(state, state["closed_trades"]) == []
    (said,) = inferences(LEGACY)
    assert "starting_capital 19880.00 inferred as cash 5000.00 + cost of the open positions 15000.00" in said
    assert inferences({**LEGACY, "starting_capital": 1.0}) == []
    assert migrate_legacy({**LEGACY, "starting_capital": 1.0})["starting_capital"] == 1.0


def test_a_42_percent_fall_of_a_migrated_legacy_state_fires_the_emergency_stop(tmp_path, caplog):
    path = tmp_path / "live_portfolio.json"
    path.write_text(json.dumps(LEGACY))
    with StateStore(path) as store, caplog.at_level(logging.WARNING):
        bot = Bot(Settings(state_dir=tmp_path, max_drawdown=0.2), StateHolder(store))
        for pos in bot.holder.state["positions"].values():
            pos["current_price"] = pos["entry_price"] * 0.25  # equity 5000 + 3750: 56 % below 19880
        bot.check_drawdown()
        assert store.load().state["emergency_stop"]["active"]
    assert any("inferred as cash" in r.getMessage() for r in caplog.records)


def test_positions_kept_as_a_list_are_migrated_and_shown_by_status(tmp_path):
    listed = {**LEGACY, "positions": [{"symbol": s, **p} for s, p in LEGACY["positions"].items()]}
    assert migrate_legacy(listed) == migrate_legacy(LEGACY)
    path = tmp_path / "live_portfolio.json"
    path.write_text(json.dumps(listed))
    found = peek(path)
    assert sorted(found.doc.state["positions"]) == ["BTCUSDT", "ETHUSDT"]
    assert any("inferred as cash" in finding for finding in found.findings)


@pytest.mark.parametrize(
    "positions",
    [[{"symbol": "BTC"}, {"symbol": "BTC"}], [{"qty": 1.0}], ["BTC"], "BTC", {"BTC": [1, 2]}],
    ids=["duplicate", "no-symbol", "not-object", "string", "position-not-object"],
)
def test_positions_that_name_no_symbol_once_are_refused_naming_which(tmp_path, positions):
    with pytest.raises(MigrationError) as caught:
        migrate_legacy({**LEGACY, "positions": positions})
    assert "correct the legacy live_portfolio.json by hand" in str(caught.value)
    path = tmp_path / "live_portfolio.json"
    path.write_text(json.dumps({**LEGACY, "positions": positions}))
    before = path.read_bytes()
    with StateStore(path) as store, pytest.raises(MigrationError):
        store.load()
    assert path.read_bytes() == before and not list((tmp_path / "backups").iterdir())
