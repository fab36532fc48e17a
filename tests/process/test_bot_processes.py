"""``python -m trading`` as real processes: bot lifecycle, SIGTERM, lock, health, status, worker."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.process.conftest import FAST, beat, run_cli, saved
from testsupport.waiting import wait_for
from trading.codedigest import package_root, tree_files
from trading.store.document import Document, encode
from trading.store.migrations import new_state

pytestmark = pytest.mark.slow


def test_bot_lifecycle_lock_health_status_and_sigterm(state_dir, spawn):
    assert run_cli(state_dir, "health").returncode == 5
    bot = spawn("bot", **FAST)
    wait_for(lambda: beat(state_dir).get("ticks", 0) >= 1, what="first heartbeat")
    assert run_cli(state_dir, "health").returncode == 0
    second = run_cli(state_dir, "bot", "--no-wait", **FAST)
    assert second.returncode == 4 and "Another bot holds" in second.stderr
    status = json.loads(run_cli(state_dir, "status", "--json").stdout)
    assert status["code"]["files"] == tree_files(package_root())
    assert beat(state_dir)["code"]["files"] == tree_files(package_root())
    wait_for(lambda: beat(state_dir).get("ticks", 0) >= 30, what="30 ticks")
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=5) == 0  # well inside the 30 s stop grace period
    final_ticks = beat(state_dir)["ticks"]
    assert saved(state_dir)["state"]["ticks"] >= final_ticks, "the final save on SIGTERM is missing"


def test_emergency_stop_survives_a_restart_until_cleared(state_dir, spawn):
    state = new_state(1000.0, "t0")
    state["emergency_stop"] = {"active": True, "reason": "max drawdown reached", "at": "t1"}
    (state_dir / "live_portfolio.json").write_bytes(encode(Document(state, 1)))
    bot = spawn("bot", **FAST)
    wait_for(lambda: beat(state_dir).get("ticks", 0) >= 60, what="60 ticks")
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=5) == 0
    halted = saved(state_dir)["state"]
    assert halted["emergency_stop"]["active"] and halted["positions"] == {} and halted["cash"] == 1000.0
    bot = spawn("bot", "--clear-emergency-stop", **FAST)
    wait_for(
        lambda: saved(state_dir)["state"]["positions"] or saved(state_dir)["state"]["closed_trades"],
        what="trading to resume",
    )
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=5) == 0
    assert not saved(state_dir)["state"]["emergency_stop"]["active"]


def test_bot_refuses_unreadable_state_without_fresh(state_dir, spawn):
    (state_dir / "live_portfolio.json").write_text("{ not json")
    refused = run_cli(state_dir, "bot", **FAST)
    assert refused.returncode == 3 and "--fresh" in refused.stderr
    assert list((state_dir / "corrupt").iterdir())
    spawn("bot", "--fresh", **FAST)
    wait_for(lambda: beat(state_dir).get("ticks", 0) >= 1, what="a fresh bot")


def pin_a_position(state_dir: Path) -> tuple[str, str] | None:
    """Set a held position's stop loss and take profit out of reach; None when the bot closed it in between."""
    held = saved(state_dir)["state"]["positions"]
    if not held:
        return None
    symbol = sorted(held)[0]
    pid = held[symbol]["position_id"]
    for kind, field, value in (("update_stop_loss", "stop_loss", 1e-6), ("update_take_profit", "take_profit", 1e12)):
        payload = json.dumps({"symbol": symbol, field: value, "position_id": pid})
        out = run_cli(state_dir, "submit", kind, "--payload", payload, "--wait", "10")
        if out.returncode == 7 and "state/" in out.stdout:
            return None  # the bot closed it (a stop loss or take profit hit) before the second command
        assert out.returncode == 0, out.stdout + out.stderr
    return symbol, pid


def test_commands_survive_a_fast_ticking_bot(state_dir, spawn):
    bot = spawn("bot", TRADEBOT_TICK_SECONDS="0.01", TRADEBOT_SAVE_SECONDS="0.05")
    spawn("worker", TRADEBOT_WORKER_POLL_SECONDS="0.01")
    wait_for(lambda: beat(state_dir).get("ticks"), what="the bot's first tick")
    symbol, pid = wait_for(lambda: pin_a_position(state_dir), timeout=60, what="a position pinned by two commands")
    generation = saved(state_dir)["generation"]
    wait_for(lambda: saved(state_dir)["generation"] >= generation + 10, what="ten more saves")
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=5) == 0
    pos = saved(state_dir)["state"]["positions"][symbol]
    assert (pos["position_id"], pos["stop_loss"], pos["take_profit"]) == (pid, 1e-6, 1e12)
