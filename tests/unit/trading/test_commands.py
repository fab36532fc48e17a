"""A command's own history decides its fate: its crashes, its saved effect, its replay record.

Workers die here for real as far as the bus and the store can tell: a worker whose bus raises
``Died`` (not an ``Exception``: nothing in the worker catches it) stops right there, before its
handler or after the handler's save, leaving its command ``running`` for the lease to recover.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.trading.factories import position
from trading import payloads
from trading.commandbus import DEAD_LETTER_AFTER, CommandBus
from trading.config import Settings
from trading.store.migrations import new_state
from trading.store.persistence import StateStore
from trading.worker import Worker


class Died(BaseException):
    """The worker process ended here."""


class DyingBus:
    """The real bus, up to the call at which the worker dies: ``audit`` (before the handler) or ``finish``."""

    def __init__(self, bus: CommandBus, at: str) -> None:
        self.bus, self.at = bus, at

    def __getattr__(self, name: str):
        if name == self.at:
            raise Died(name)
        return getattr(self.bus, name)


@pytest.fixture
def bus(tmp_path):
    b = CommandBus(tmp_path / "commands.sqlite3")
    yield b
    b.close()


def enqueue(bus: CommandBus, kind: str, payload: dict, ttl: float = 60.0) -> int:
    key = f"k-{time.time_ns()}"
    return bus.enqueue(kind, payload, payloads.checksum(payload), key, time.time() + ttl)["id"]


def dies(tmp_path, bus: CommandBus, store, at: str) -> None:
    """A worker claims the next command and dies at ``at``; the lease runs out and a live worker recovers it."""
    with pytest.raises(Died):
        Worker(Settings(state_dir=tmp_path), DyingBus(bus, at), store).step()
    bus.conn.execute("UPDATE commands SET claimed_at = claimed_at - 600 WHERE status = 'running'")
    Worker(Settings(state_dir=tmp_path), bus, store).recover()


def test_a_command_is_dead_lettered_for_its_own_crashes_not_for_another_ones_with_its_payload(tmp_path, bus, store):
    payload = {"symbol": "BTC", "stop_loss": 41.0}
    poison = enqueue(bus, "update_stop_loss", payload)
    for _ in range(DEAD_LETTER_AFTER):
        dies(tmp_path, bus, store, "audit")
    innocent = enqueue(bus, "update_stop_loss", payload)
    worker = Worker(Settings(state_dir=tmp_path), bus, store)
    worker.step()
    worker.step()
    assert bus.get(poison)["error"].startswith("worker/dead_letter")
    assert bus.get(innocent)["status"] == "succeeded", bus.get(innocent)["error"]
    assert store.load().state["positions"]["BTC"]["stop_loss"] == 41.0


def test_a_command_whose_effect_was_saved_succeeds_however_often_its_workers_died(tmp_path, bus, store):
    cid = enqueue(bus, "update_stop_loss", {"symbol": "BTC", "stop_loss": 41.0})
    for _ in range(DEAD_LETTER_AFTER):
        dies(tmp_path, bus, store, "finish")  # the first saved the effect; each later run replayed it
    Worker(Settings(state_dir=tmp_path), bus, store).step()
    row = bus.get(cid)
    assert row["status"] == "succeeded", row["error"]
    assert json.loads(row["result"])["replayed"] is True and json.loads(row["result"])["new"] == 41.0


def test_a_command_whose_effect_was_saved_succeeds_when_run_again_after_its_expiry(tmp_path, bus, store):
    cid = enqueue(bus, "close_position", {"symbol": "BTC"}, ttl=60.0)
    dies(tmp_path, bus, store, "finish")
    bus.conn.execute("UPDATE commands SET expires_at = ? WHERE id = ?", (time.time() - 1, cid))
    Worker(Settings(state_dir=tmp_path), bus, store).step()
    row = bus.get(cid)
    assert row["status"] == "succeeded", row["error"]
    assert json.loads(row["result"])["closed"]["position_id"] == "btc-1"


def test_a_command_run_again_after_a_thousand_others_is_not_applied_twice(tmp_path, bus, store):
    first = enqueue(bus, "update_stop_loss", {"symbol": "BTC", "stop_loss": 40.0})
    with pytest.raises(Died):  # its effect saved, its worker dead; the lease has not run out yet
        Worker(Settings(state_dir=tmp_path), DyingBus(bus, "finish"), store).step()
    worker = Worker(Settings(state_dir=tmp_path), bus, store)
    for i in range(1001):
        enqueue(bus, "update_stop_loss", {"symbol": "BTC", "stop_loss": 50.0 + i})
        worker.step()
    bus.conn.execute("UPDATE commands SET claimed_at = claimed_at - 600 WHERE id = ?", (first,))
    worker.recover()
    worker.step()
    assert store.load().state["positions"]["BTC"]["stop_loss"] == 1050.0
    assert json.loads(bus.get(first)["result"])["replayed"] is True
    kept = set(store.load().state["applied_commands"])
    assert kept == {str(first), str(first + 1001)}  # the newest save forgot every command finished before it


def test_a_close_fills_at_the_mark_and_refuses_a_price_far_from_it(tmp_path, bus, store):
    before = store.path.read_bytes()
    far = enqueue(bus, "close_position", {"symbol": "BTC", "price": 1e9})
    worker = Worker(Settings(state_dir=tmp_path), bus, store)
    worker.step()
    row = bus.get(far)
    assert row["error"].startswith("state/price_off_mark: price 1000000000.0 is") and "mark 100.0" in row["error"]
    assert store.path.read_bytes() == before
    near = enqueue(bus, "close_position", {"symbol": "BTC", "price": 97.0})
    worker.step()
    assert json.loads(bus.get(near)["result"])["closed"]["exit_price"] == 100.0


def test_the_seeds_apply_profile_testnet_is_the_same_dry_run(tmp_path, bus, store):
    before = store.path.read_bytes()
    payload = {"profile_id": "b403", "profile_version": 1, "dry_run": True, "environment": "testnet"}
    cid = enqueue(bus, "apply_profile_testnet", {**payload, "risk_settings": {"max_open_positions": 4}})
    Worker(Settings(state_dir=tmp_path), bus, store).step()
    result = json.loads(bus.get(cid)["result"])
    assert (result["dry_run"], result["would_apply"], result["validated_risk_keys_n"]) == (True, False, 1)
    assert bus.audit_events(cid)[1:3] == ["apply_profile_testnet.started", "apply_profile_testnet.succeeded"]
    assert store.path.read_bytes() == before


DEATHS = st.lists(st.sampled_from(["audit", "finish", None]), max_size=12)  # where the next claimant dies


def holding_btc(directory: Path) -> StateStore:
    store = StateStore(directory / "live_portfolio.json")
    state = new_state(1000.0, "t0")
    state["positions"]["BTC"] = position("BTC", "btc-1")
    store.initialize(state)
    return store


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stops=st.lists(st.sampled_from([41.0, 42.0]), min_size=1, max_size=4), deaths=DEATHS)
def test_each_command_ends_by_its_own_history(tmp_path_factory, stops, deaths):
    """Commands, some with equal payloads, claimed in turn by workers that die before or after their save."""
    tmp = tmp_path_factory.mktemp("commands")
    with holding_btc(tmp) as store, contextlib.closing(CommandBus(tmp / "commands.sqlite3")) as bus:
        ids = [enqueue(bus, "update_stop_loss", {"symbol": "BTC", "stop_loss": stop}) for stop in stops]
        saved, crashed = set(), dict.fromkeys(ids, 0)
        for at in deaths:
            claimant = bus.conn.execute("SELECT MIN(id) FROM commands WHERE status = 'pending'").fetchone()[0]
            if claimant is None:
                break
            if at is None:
                Worker(Settings(state_dir=tmp), bus, store).step()
                continue
            dies(tmp, bus, store, at)
            crashed[claimant] += 1
            saved |= {claimant} & {int(c) for c in store.load().state.get("applied_commands", {})}
        while Worker(Settings(state_dir=tmp), bus, store).step():
            pass
        rows = {cid: bus.get(cid) for cid in ids}
    for cid, row in rows.items():
        if cid in saved or crashed[cid] < DEAD_LETTER_AFTER:
            assert row["status"] == "succeeded", (cid, crashed, saved, row["error"])
        else:
            assert row["error"].startswith("worker/dead_letter"), (cid, row)
