"""Real processes on real files: two writers, kill -9 mid-save, a full filesystem."""

from __future__ import annotations

import contextlib
import errno
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from trading.errors import StateWriteError
from trading.store.archive import every_trade
from trading.store.atomic import TEMP_MARKER
from trading.store.holder import StateHolder
from trading.store.migrations import new_state
from trading.store.persistence import StateStore

pytestmark = pytest.mark.slow


def fork(body) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            body()
            code = 0
        finally:
            os._exit(code)
    return pid


def exit_code(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def transaction_writer(path: Path, label: str, n: int) -> None:
    with StateStore(path) as store:
        for i in range(n):
            with store.transaction() as s:
                s["counter"] = s.get("counter", 0) + 1
                s["closed_trades"].append({"position_id": f"{label}-{i}"})


def counting_writer(path: Path) -> None:
    """Transactions for ever, each closing trade number ``counter``: the trades say which saves landed."""
    with StateStore(path) as store:
        while True:
            with store.transaction() as s:
                s["counter"] = s.get("counter", 0) + 1
                s["closed_trades"].append({"position_id": f"k-{s['counter']}", "pnl": 1.0})


def holder_writer(path: Path, n: int) -> None:
    """Bot-like: memory across 'ticks', refresh and save through the merge."""
    with StateStore(path) as store:
        holder = StateHolder(store)
        for i in range(n):
            holder.refresh()
            holder.state["closed_trades"].append({"position_id": f"h-{i}"})
            holder.state["cash"] += 1.0
            holder.save("trade")


def test_two_transaction_writers_lose_nothing(fresh_store):
    n = 1500
    pids = [fork(lambda label=label: transaction_writer(fresh_store.path, label, n)) for label in "ab"]
    assert [exit_code(p) for p in pids] == [0, 0]
    state = fresh_store.load().state
    assert state["counter"] == 2 * n
    trades = every_trade(fresh_store.archive.directory, state)
    assert len(trades) == len({t["position_id"] for t in trades}) == 2 * n
    assert state["trade_totals"]["archived_count"] + len(state["closed_trades"]) == 2 * n


def test_holder_and_transaction_writer_lose_nothing(fresh_store):
    n = 800
    pids = [
        fork(lambda: holder_writer(fresh_store.path, n)),
        fork(lambda: transaction_writer(fresh_store.path, "w", n)),
    ]
    assert [exit_code(p) for p in pids] == [0, 0]
    state = fresh_store.load().state
    ids = {t["position_id"] for t in every_trade(fresh_store.archive.directory, state)}
    assert ids == {f"h-{i}" for i in range(n)} | {f"w-{i}" for i in range(n)}
    assert state["cash"] == 1000.0 + n  # "counter" is not asserted: unknown sections belong to the holder


def test_kill_9_during_saves_never_breaks_or_goes_back(fresh_store):
    rng = random.Random(7)
    last_generation, last_counter, kills, stalls = 0, 0, 0, 0
    while (kills < 250 or last_counter <= 250) and kills < 5000:  # progress, not time: a loaded machine kills more
        pid = fork(lambda: counting_writer(fresh_store.path))
        time.sleep(rng.uniform(0.0, 0.03 * (1 + min(stalls, 10))))  # a writer that saved nothing gets longer
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        with StateStore(fresh_store.path) as store:
            doc = store.load()
        assert doc.generation >= last_generation
        assert doc.state.get("counter", 0) >= last_counter
        assert doc.state.get("counter", 0) == doc.generation - 1
        stalls = 0 if doc.state.get("counter", 0) > last_counter else stalls + 1
        last_generation, last_counter = doc.generation, doc.state.get("counter", 0)
    assert last_counter > 250
    state = fresh_store.load().state
    trades = every_trade(fresh_store.archive.directory, state)  # archive + document = every trade
    assert [t["position_id"] for t in trades] == [f"k-{i}" for i in range(1, last_counter + 1)]
    assert state["trade_totals"]["archived_pnl"] + sum(t["pnl"] for t in state["closed_trades"]) == last_counter
    assert fresh_store.counters.corrupt_fallback_count == 0
    assert not list(fresh_store.path.parent.glob(f".*{TEMP_MARKER}*"))


@pytest.fixture
def tiny_fs(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("mounting a 64 KiB tmpfs needs root")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_enospc_on_a_full_filesystem_leaves_the_primary_loadable(tiny_fs):
    store = StateStore(tiny_fs / "live_portfolio.json", keep_backups=0)
    store.initialize(new_state(1.0, "t0"))
    with pytest.raises(StateWriteError) as caught:
        for i in range(1000):
            with store.transaction() as s:
                s["filler"] = "x" * (i * 1024)
    assert caught.value.cause.errno == errno.ENOSPC
    good = store.load()
    assert len(good.state["filler"]) == 1024 * (good.generation - 2)
    assert not list(tiny_fs.glob(f".*{TEMP_MARKER}*"))
    with contextlib.suppress(FileNotFoundError):
        store.close()
