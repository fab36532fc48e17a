"""Bot, worker and submit on a state volume that fills up (a 2 MiB tmpfs), then has room again.

While full: both stay up (the worker even when it starts on the full volume), each says "disk full"
once, the bot makes no trade it cannot save (its stop loss waits), and `submit` answers one line and
exit code 3.  Once there is room: each says so once, the bot's stop fires and is saved, commands run
again, and after a kill -9 and a restart the books hold every trade the bot reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.process.conftest import beat, env_for, run_cli
from tests.unit.trading.factories import position
from testsupport.races import check, on_disk, write_prices
from testsupport.waiting import wait_for
from trading import payloads, portfolio
from trading.commandbus import CommandBus
from trading.config import Settings
from trading.store.migrations import new_state
from trading.store.persistence import StateStore
from trading.worker import Worker

pytestmark = pytest.mark.slow
FULL, ROOM = "disk full", "room again"


@pytest.fixture
def volume(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "volume"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(directory: Path) -> Path:
    """Take every free byte of the volume; the file to remove for room again."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    with contextlib.suppress(OSError):
        while True:
            os.write(fd, b"\0" * 4096)
    os.close(fd)
    return filler


@pytest.fixture
def started(volume: Path):
    """Start ``python -m trading ROLE`` on the volume, its log to a file; killed before the volume goes."""
    children: list[subprocess.Popen] = []

    def start(role: str, log: Path, **env: str) -> subprocess.Popen:
        with log.open("ab") as out:
            argv = [sys.executable, "-m", "trading", role]
            children.append(subprocess.Popen(argv, env=env_for(volume, **env), stderr=out))
        return children[-1]

    yield start
    for child in children:
        child.kill()
        child.wait(timeout=10)


def said(log: Path, what: str) -> int:
    return log.read_text().count(what)


def made(log: Path) -> list[str]:
    """The trades the bot says it made (and saved)."""
    return [line for line in log.read_text().splitlines() if "(generation" in line]


def test_a_full_volume_stops_no_process_loses_no_trade_and_is_said_once_each_way(volume, started, tmp_path):
    state = new_state(1000.0, "t0")
    portfolio.open_position(state, position("BTC", "btc-1", stop_loss=95.0, take_profit=1e9))
    with StateStore(volume / "live_portfolio.json") as store:
        store.initialize(state)
    prices, logs = tmp_path / "prices.json", {role: tmp_path / f"{role}.log" for role in ("bot", "worker")}
    write_prices(prices, {"BTC": 100.0})
    feed = {"TRADEBOT_FEED": f"file:{prices}", "TRADEBOT_SYMBOLS": "BTC", "TRADEBOT_TICK_SECONDS": "0.02"}
    bot = started("bot", logs["bot"], **feed)
    wait_for(lambda: beat(volume).get("ticks", 0) >= 3, what="the bot's first ticks")
    filler = fill(volume)
    worker = started("worker", logs["worker"], TRADEBOT_WORKER_POLL_SECONDS="0.02")
    write_prices(prices, {"BTC": 90.0})  # below the stop: a close the bot cannot save
    wait_for(lambda: said(logs["bot"], FULL) and said(logs["worker"], FULL), what="both to say the disk is full")
    submitted = run_cli(volume, "submit", "update_take_profit", "--payload", '{"symbol": "BTC", "take_profit": 1e8}')
    time.sleep(1.0)  # some 50 ticks and polls on the full volume

    assert bot.poll() is None and worker.poll() is None
    assert (said(logs["bot"], FULL), said(logs["worker"], FULL)) == (1, 1)
    assert made(logs["bot"]) == [] and "BTC" in on_disk(Settings(state_dir=volume))[0]["positions"]
    assert submitted.returncode == 3 and len(submitted.stdout.splitlines()) == 1, submitted
    assert "is full" in submitted.stdout and "Traceback" not in submitted.stderr

    filler.unlink()
    wait_for(lambda: "BTC" not in on_disk(Settings(state_dir=volume))[0]["positions"], what="the stop to fire")
    wait_for(lambda: said(logs["bot"], ROOM) and said(logs["worker"], ROOM), what="both to say there is room")
    again = run_cli(volume, "submit", "apply_profile", "--payload", '{"profile_id": "p", "version": 1}', "--wait", "20")
    assert again.returncode == 0, again.stdout + again.stderr
    bot.send_signal(signal.SIGKILL)
    bot.wait(timeout=10)
    bot = started("bot", logs["bot"], **feed)
    wait_for(lambda: beat(volume).get("pid") == bot.pid and beat(volume)["ticks"] >= 3, what="the new bot's ticks")
    bot.send_signal(signal.SIGTERM)
    worker.send_signal(signal.SIGTERM)
    assert (bot.wait(timeout=10), worker.wait(timeout=10)) == (0, 0)
    assert "Traceback" not in logs["bot"].read_text() + logs["worker"].read_text()
    assert [said(logs[role], what) for role in ("bot", "worker") for what in (FULL, ROOM)] == [1, 1, 1, 1]
    trades = json.loads((volume / "live_portfolio.json").read_text())["state"]["closed_trades"]
    assert [(t["symbol"], t["exit_price"]) for t in trades] == [("BTC", 90.0)]
    assert check(Settings(state_dir=volume)) == []


def test_a_command_the_full_volume_kept_from_its_save_is_given_back_and_runs_once_there_is_room(volume, tmp_path):
    """The bus elsewhere (it has room), the state on the full volume: the command waits, is no crash, then runs."""
    state = new_state(1000.0, "t0")
    portfolio.open_position(state, position("BTC", "btc-1"))
    store, bus = StateStore(volume / "live_portfolio.json"), CommandBus(tmp_path / "commands.sqlite3")
    store.initialize(state)
    payload = {"symbol": "BTC", "stop_loss": 42.0}
    cid = bus.enqueue("update_stop_loss", payload, payloads.checksum(payload), "k", time.time() + 60)["id"]
    worker = Worker(Settings(state_dir=volume), bus, store)
    filler = fill(volume)
    assert [worker.poll(recover=True) for _ in range(3)] == [False, False, False]
    assert bus.get(cid)["status"] == "running" and worker.volume.waiting
    filler.unlink()
    assert worker.poll(recover=True) is True
    assert bus.get(cid)["status"] == "succeeded" and bus.crashes(cid) == 0
    assert bus.audit_events(cid).count("released") == 1
    assert store.load().state["positions"]["BTC"]["stop_loss"] == 42.0
    bus.close()
    store.close()
