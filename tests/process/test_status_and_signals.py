"""``status`` only reads (a corrupt or legacy state is reported with the command that fixes it, and
``repair`` fixes it); the final save on SIGINT; coherence counters in the heartbeat and ``status --json``;
``worker --once`` runs exactly one command."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

import pytest

from tests.process.conftest import FAST, beat, run_cli, saved
from tests.unit.trading.factories import position
from tests.unit.trading.test_store import LEGACY
from testsupport.waiting import wait_for
from trading.commandbus import CommandBus
from trading.config import Settings
from trading.submit import submit

pytestmark = pytest.mark.slow


def snapshot(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(directory.rglob("*"))
    }


def test_status_never_writes_and_names_the_repair_for_a_corrupt_primary(state_dir, fresh_store):
    with fresh_store.transaction() as s:
        s["cash"] = 900.0
    with fresh_store.transaction() as s:
        s["cash"] = 800.0
    fresh_store.path.write_bytes(fresh_store.path.read_bytes()[:50])
    before = snapshot(state_dir)
    out = run_cli(state_dir, "status", "--json")
    assert out.returncode == 0, out.stderr
    assert snapshot(state_dir) == before
    report = json.loads(out.stdout)
    assert report["state"]["cash"] == 900.0 and report["read_from"].startswith("live_portfolio.g")
    assert "python -m trading repair" in report["findings"][0] and "corrupt" in report["findings"][0]
    text = run_cli(state_dir, "status")
    assert text.stdout.startswith("finding: live_portfolio.json is corrupt") and snapshot(state_dir) == before
    assert run_cli(state_dir, "repair").returncode == 0
    assert len(list((state_dir / "corrupt").iterdir())) == 1
    assert json.loads(run_cli(state_dir, "status", "--json").stdout)["findings"] == []


def test_status_never_migrates_a_legacy_document(state_dir):
    (state_dir / "live_portfolio.json").write_text(json.dumps(LEGACY))
    before = snapshot(state_dir)
    report = json.loads(run_cli(state_dir, "status", "--json").stdout)
    assert snapshot(state_dir) == before
    assert report["state"]["positions"]["BTC"]["qty"] == 0.5
    assert "legacy" in report["findings"][0] and "python -m trading repair" in report["findings"][0]


def test_status_shows_a_legacy_document_whose_positions_are_a_list(state_dir):
    listed = {**LEGACY, "positions": [{"symbol": sym, **pos} for sym, pos in LEGACY["positions"].items()]}
    (state_dir / "live_portfolio.json").write_text(json.dumps(listed))
    out = run_cli(state_dir, "status")
    assert out.returncode == 0, out.stderr
    assert "  BTC: qty 0.500000 entry 100.0 mark None sl 90.0 tp 120.0" in out.stdout.splitlines()


def test_final_save_on_sigint(state_dir, spawn):
    bot = spawn("bot", "--fresh", **FAST)
    wait_for(lambda: beat(state_dir).get("ticks", 0) >= 20, what="20 ticks")
    bot.send_signal(signal.SIGINT)
    assert bot.wait(timeout=5) == 0
    assert saved(state_dir)["state"]["ticks"] >= beat(state_dir)["ticks"], "the final save on SIGINT is missing"


def worker_saved_once(state_dir: Path) -> bool:
    """Raise a held position's take profit; False when the bot closed it first (try again)."""
    held = saved(state_dir)["state"]["positions"]
    if not held:
        return False
    payload = json.dumps({"symbol": sorted(held)[0], "take_profit": 1e12})
    return run_cli(state_dir, "submit", "update_take_profit", "--payload", payload, "--wait", "30").returncode == 0


def saw_worker(coherence: dict) -> bool:
    return coherence.get("generation_jump_count", 0) + coherence.get("save_conflict_count", 0) >= 1


def test_coherence_counters_in_heartbeat_and_status(state_dir, spawn):
    spawn("bot", "--fresh", TRADEBOT_TICK_SECONDS="0.02", TRADEBOT_SAVE_SECONDS="0.1")
    spawn("worker", TRADEBOT_WORKER_POLL_SECONDS="0.02")
    wait_for(lambda: beat(state_dir).get("ticks"), what="the bot's first tick")
    wait_for(lambda: saved(state_dir)["state"]["positions"], what="an open position")
    wait_for(lambda: worker_saved_once(state_dir), timeout=60, what="a worker save")
    # the bot sees the worker's save at a tick's refresh (a generation jump) or, when its own save comes first,
    # as a save conflict it merges (a loaded CI saw the second: no jump ever came)
    counters = wait_for(
        lambda: saw_worker(beat(state_dir).get("coherence") or {}) and beat(state_dir),
        what="the bot to see the worker's save",
    )["coherence"]
    for key in ("generation_jump_count", "save_conflict_count", "save_retry_count", "save_merged_count"):
        assert isinstance(counters[key], int)
    assert "merge_failed_count" in counters and "save_error_count" in counters
    report = json.loads(run_cli(state_dir, "status", "--json").stdout)
    assert set(report["coherence"]["bot"]) == set(counters)
    assert report["coherence"]["worker"]["commands"]["succeeded"] >= 1


def test_worker_once_runs_exactly_one_command(state_dir, fresh_store):
    with fresh_store.transaction() as s:
        s["positions"]["BTC"] = position("BTC", "btc-1")
    config = Settings(state_dir=state_dir)
    ids = [
        submit(config, "update_stop_loss", json.dumps({"symbol": "BTC", "stop_loss": v}), 0, 60, None)["id"]
        for v in (1.0, 2.0)
    ]
    done = run_cli(state_dir, "worker", "--once")
    assert done.returncode == 0, done.stderr
    bus = CommandBus(config.commands_db)
    assert [bus.get(i)["status"] for i in ids] == ["succeeded", "pending"]
    bus.close()
    assert fresh_store.load().state["positions"]["BTC"]["stop_loss"] == 1.0
