from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.trading.factories import position
from trading.store.migrations import new_state
from trading.store.persistence import StateStore


@pytest.fixture
def state() -> dict:
    s = new_state(1000.0, "2026-01-01T00:00:00+00:00")
    s["positions"]["BTC"] = position("BTC", "btc-1")
    return s


@pytest.fixture
def store(tmp_path: Path, state: dict) -> StateStore:
    s = StateStore(tmp_path / "live_portfolio.json")
    s.initialize(state)
    yield s
    s.close()
