from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trading.store.migrations import new_state
from trading.store.persistence import StateStore

REPO = Path(__file__).resolve().parents[2]
# A bot that ticks every 20 ms; its periodic save (TRADEBOT_SAVE_SECONDS) never comes during a test.
FAST = {"TRADEBOT_TICK_SECONDS": "0.02", "TRADEBOT_SAVE_SECONDS": "1000"}


def beat(state_dir: Path, role: str = "bot") -> dict:
    """The role's heartbeat as written last; {} before the first (or while it is replaced)."""
    try:
        return json.loads((state_dir / "heartbeat" / f"{role}.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def saved(state_dir: Path) -> dict:
    """The state document as saved last."""
    return json.loads((state_dir / "live_portfolio.json").read_text())


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    d = tmp_path / "state"
    d.mkdir()
    return d


@pytest.fixture
def fresh_store(state_dir: Path) -> Iterator[StateStore]:
    store = StateStore(state_dir / "live_portfolio.json")
    store.initialize(new_state(1000.0, "t0"))
    yield store
    store.close()


def env_for(state_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHONDONTWRITEBYTECODE": "1",
        "TRADEBOT_STATE_DIR": str(state_dir),
        **extra,
    }


@pytest.fixture
def spawn(state_dir: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``python -m trading ARGS``; every child is killed at teardown."""
    children: list[subprocess.Popen] = []

    def start(*args: str, **env: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "trading", *args],
            env=env_for(state_dir, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(proc)
        return proc

    yield start
    for proc in children:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)


def run_cli(state_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trading", *args],
        env=env_for(state_dir, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
