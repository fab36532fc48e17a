"""The stage protocol and the standby handover with real processes (`trading.stages`, `trading.rolelock`).

A second bot (worker) stands by for the role's lock and takes over when the first one is stopped:
20 rounds each, checked by `testsupport.traders` — no two trading intervals overlap, and every
sample of the lock's holder record taken inside one process's interval names that process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.process.conftest import env_for
from testsupport import traders
from testsupport.waiting import wait_for
from trading.codedigest import digest, package_root, tree_files
from trading.stages import ORDER

pytestmark = pytest.mark.slow
FAST = {"TRADEBOT_TICK_SECONDS": "0.02", "TRADEBOT_SAVE_SECONDS": "1000", "TRADEBOT_WORKER_POLL_SECONDS": "0.02"}
ROUNDS = 20


class Proc:
    def __init__(self, popen: subprocess.Popen, log: Path) -> None:
        self.popen, self.log = popen, log

    def stages(self) -> list[dict]:
        return traders.lines_of([self.log])

    def reached(self, stage: str) -> bool:
        return any(doc["stage"] == stage for doc in self.stages())

    def stop(self) -> int:
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=30)


@pytest.fixture
def start(state_dir: Path, tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """`python -m trading ARGS` with its stderr in a file of its own; every child is killed at teardown."""
    children: list[Proc] = []

    def run(*args: str, python: tuple[str, ...] = ("-m", "trading"), **env: str) -> Proc:
        log = tmp_path / f"{len(children)}-{args[0]}.log"
        with log.open("wb") as err:
            popen = subprocess.Popen(
                [sys.executable, *python, *args],
                env=env_for(state_dir, **(FAST | env)),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        children.append(Proc(popen, log))
        return children[-1]

    yield run
    for child in children:
        if child.popen.poll() is None:
            child.popen.kill()
        child.popen.wait(timeout=10)


def test_a_bot_says_each_stage_in_order_with_the_release_it_runs(start):
    bot = start("bot")
    wait_for(lambda: bot.reached("running"), what="running")
    assert bot.stop() == 0
    said = bot.stages()
    order = [doc["stage"] for doc in said if doc.get("pulse") is None]
    assert order == ["started", "imported", "configured", "locked", "state_loaded", "running", "stopping", "stopped"]
    assert [ORDER.index(s) for s in order] == sorted(ORDER.index(s) for s in order)
    assert {doc["release"] for doc in said if doc["stage"] != "started"} == {digest(tree_files(package_root()))}
    stopped = said[-1]
    assert stopped["ticks"] >= 1 and stopped["last_tick_ts"] >= said[5]["first_tick_ts"]


def test_a_bad_setting_exits_9_before_configured(start):
    bot = start("bot", TRADEBOT_TICK_SECONDS="abc")
    assert bot.popen.wait(timeout=30) == 9
    assert [doc["stage"] for doc in bot.stages() if doc.get("pulse") is None] == ["started", "imported"]


def test_no_wait_exits_4_and_a_standby_stopped_while_waiting_touches_nothing(start, state_dir):
    first = hold(state_dir / "bot.lock", "bot", "another release")
    refused = start("bot", "--no-wait")
    assert refused.popen.wait(timeout=30) == 4
    standby = start("bot")
    wait_for(lambda: standby.reached("standing_by"), what="standing by")
    waiting = next(doc for doc in standby.stages() if doc["stage"] == "standing_by")["waiting_for"]
    assert waiting["pid"] == first.pid and waiting["role"] == "bot"
    own_file = state_dir / "heartbeat" / "bot" / f"{os.uname().nodename}.json"
    # the stage line is said before the heartbeat file is written (only `running` promises the file first)
    own = wait_for(lambda: (found := json.loads(own_file.read_text()))["stage"] == "standing_by" and found)
    assert own["stage"] == "standing_by" and own["waiting_for"]["pid"] == first.pid
    assert standby.stop() == 0 and first.poll() is None
    assert sorted(p.relative_to(state_dir).as_posix() for p in state_dir.rglob("*")) == [
        "bot.lock",
        "heartbeat",
        "heartbeat/bot",
        f"heartbeat/bot/{os.uname().nodename}.json",
    ]
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=10)


@pytest.mark.parametrize("role", ["bot", "worker"])
def test_a_standby_takes_over_on_sigterm_and_two_never_run_at_once(start, state_dir, role):
    sampler = traders.Sampler(state_dir / f"{role}.lock")
    sampler.start()
    live = start(role)
    wait_for(lambda: live.reached("running"), what=f"the first {role} running")
    for _ in range(ROUNDS):
        standby = start(role)
        wait_for(lambda s=standby: s.reached("standing_by"), what="a standby")
        assert live.stop() == 0
        wait_for(lambda s=standby: s.reached("running"), what="the standby running")
        live = standby
    assert live.stop() == 0
    sampler.stop()
    found = traders.intervals(traders.lines_of(sorted(state_dir.parent.glob(f"*-{role}.log"))))
    assert len(found) == ROUNDS + 1
    assert traders.overlaps(found) == []
    assert traders.strays(found, sampler.samples) == []
    gaps = sorted(traders.gaps(found))
    print(f"{role} handover gaps (s): min {gaps[0]:.3f} median {gaps[len(gaps) // 2]:.3f} max {gaps[-1]:.3f}")


@pytest.mark.parametrize("role", ["bot", "worker"])
def test_a_stopped_process_lets_go_of_its_lock_once_its_final_save_is_done_not_when_it_ends(start, tmp_path, role):
    gate = tmp_path / "may-end"
    live = start(role, python=("-c", EXIT_HELD), TEST_EXIT_GATE=str(gate))
    wait_for(lambda: live.reached("running"), what=f"the first {role} running")
    standby = start(role)
    wait_for(lambda: standby.reached("standing_by"), what="a standby")
    live.popen.send_signal(signal.SIGTERM)
    wait_for(lambda: standby.reached("running"), what="the standby running while the old process has not ended")
    assert live.reached("stopped") and live.popen.poll() is None
    gate.touch()
    assert live.popen.wait(timeout=30) == 0
    assert standby.stop() == 0


EXIT_HELD = """
import atexit, os, runpy, time
def held():  # the process cannot end before the test lets it (30 s at most)
    for _ in range(3000):
        if os.path.exists(os.environ["TEST_EXIT_GATE"]):
            return
        time.sleep(0.01)
atexit.register(held)
runpy.run_module("trading", run_name="__main__", alter_sys=True)
"""


def test_the_fence_holds_a_bot_while_another_releases_worker_holds_its_lock(start, state_dir):
    holder = hold(state_dir / "worker.lock", "worker", "another release")
    bot = start("bot")
    wait_for(lambda: bot.reached("fenced"), what="fenced")
    fenced = next(doc for doc in bot.stages() if doc["stage"] == "fenced")
    assert fenced["waiting_for"]["release"] == "another release"
    time.sleep(0.5)
    assert not bot.reached("locked") and not (state_dir / "live_portfolio.json").exists()
    holder.send_signal(signal.SIGTERM)
    holder.wait(timeout=10)
    wait_for(lambda: bot.reached("running"), what="running once the other release's worker is gone")
    assert bot.stop() == 0


def hold(path: Path, role: str, release: str) -> subprocess.Popen:
    """A process of another release holding the lock at `path` until SIGTERM."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), role, release], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


HOLDER = """
import fcntl, json, os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o660)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, json.dumps({"pid": os.getpid(), "role": sys.argv[2], "release": sys.argv[3]}).encode())
print("holding", flush=True)
signal.sigwait({signal.SIGTERM})
"""


def test_a_new_bot_and_a_new_worker_taking_over_at_once_both_run(start, state_dir):
    """Both roles hand over in one moment (a deploy stops the old bot and worker together): neither new process
    may wait for the other. With the fence before the holder record, each saw the old release's record in the
    other's lock file and both stayed fenced."""
    old = [hold(state_dir / f"{role}.lock", role, "the old release") for role in ("bot", "worker")]
    new = [start(role) for role in ("bot", "worker")]
    for proc in new:
        wait_for(lambda proc=proc: proc.reached("standing_by"), what="standing by")
    for holder in old:
        holder.send_signal(signal.SIGTERM)
    for holder in old:
        holder.wait(timeout=10)
    for proc in new:
        wait_for(lambda proc=proc: proc.reached("running"), timeout=30, what="running after both old ones left")
    assert [proc.stop() for proc in new] == [0, 0]
