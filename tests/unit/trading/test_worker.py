"""Payload checks, the command bus and the worker's handlers against real SQLite and a real store."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from trading import heartbeat, payloads
from trading.commandbus import DEAD_LETTER_AFTER, CommandBus
from trading.config import Settings
from trading.errors import ValidationError
from trading.handlers import HANDLERS, Job
from trading.signals import StopSignal
from trading.submit import submit as submit_command
from trading.worker import Worker


@pytest.fixture
def bus(tmp_path: Path):
    b = CommandBus(tmp_path / "commands.sqlite3")
    yield b
    b.close()


@pytest.fixture
def worker(tmp_path, bus, store):
    return Worker(Settings(state_dir=tmp_path), bus, store)


def submit(bus: CommandBus, kind: str, payload: dict, ttl: float = 60.0, checksum: str | None = None) -> int:
    row = bus.enqueue(kind, payload, checksum or payloads.checksum(payload), f"k-{time.time_ns()}", time.time() + ttl)
    return row["id"]


def test_checksum_is_sha256_of_canonical_json():
    assert payloads.checksum({"b": 1, "a": "x"}) == payloads.checksum({"a": "x", "b": 1})
    assert len(payloads.checksum({})) == 64


@pytest.mark.parametrize(
    ("kind", "payload", "code"),
    [
        ("update_stop_loss", {"stop_loss": 5.0}, "validation/missing_or_bad_symbol"),
        ("update_stop_loss", {"symbol": "BTC", "stop_loss": "5"}, "validation/missing_or_bad_stop_loss"),
        ("update_take_profit", {"symbol": "BTC", "take_profit": -1}, "validation/missing_or_bad_take_profit"),
        ("apply_profile", {"profile_id": "p"}, "validation/missing_or_bad_version"),
        ("apply_profile", {"profile_id": "p", "version": True}, "validation/missing_or_bad_version"),
        ("apply_profile", {"profile_id": "p", "version": 1, "dry_run": False}, "validation/dry_run_only"),
        ("launch_rocket", {}, "validation/unknown_type"),
    ],
)
def test_validation_codes(kind, payload, code):
    with pytest.raises(ValidationError) as caught:
        payloads.validate(kind, payload)
    assert caught.value.code == code


def test_apply_profile_accepts_profile_version_or_version():
    assert payloads.validate("apply_profile", {"profile_id": "p", "profile_version": 3})["version"] == 3
    assert payloads.validate("apply_profile", {"profile_id": "p", "version": 4})["version"] == 4


def test_stop_loss_update_goes_through_the_store(bus, worker, store):
    cid = submit(bus, "update_stop_loss", {"symbol": "BTC", "stop_loss": 42.0})
    assert worker.step() is True
    row = bus.get(cid)
    assert row["status"] == "succeeded", row["error"]
    assert store.load().state["positions"]["BTC"]["stop_loss"] == 42.0
    assert bus.audit_events(cid) == [
        "started",
        "update_stop_loss.started",
        "update_stop_loss.succeeded",
        "result_written",
    ]


def test_close_position_fills_at_the_mark_credits_cash_and_records_trade(bus, worker, store):
    cid = submit(bus, "close_position", {"symbol": "BTC", "price": 101.0})
    worker.step()
    assert bus.get(cid)["status"] == "succeeded"
    state = store.load().state
    assert "BTC" not in state["positions"]
    assert state["cash"] == 1100.0 and state["closed_trades"][-1]["exit_price"] == 100.0
    assert state["closed_trades"][-1]["position_id"] == "btc-1"


@pytest.mark.parametrize(
    ("kind", "payload", "ttl", "bad_checksum", "code"),
    [
        ("update_stop_loss", {"symbol": "BTC", "stop_loss": 1.0}, 60.0, True, "validation/bad_checksum"),
        ("update_stop_loss", {"symbol": "BTC", "stop_loss": 1.0}, -1.0, False, "validation/expired"),
        ("update_stop_loss", {"symbol": "XRP", "stop_loss": 1.0}, 60.0, False, "state/no_such_position"),
        ("close_position", {"symbol": "BTC", "position_id": "old"}, 60.0, False, "state/position_mismatch"),
        ("nope", {}, 60.0, False, "validation/unknown_type"),
    ],
)
def test_failing_commands_mutate_nothing(bus, worker, store, kind, payload, ttl, bad_checksum, code):
    before = store.path.read_bytes()
    cid = submit(bus, kind, payload, ttl, "0" * 64 if bad_checksum else None)
    worker.step()
    row = bus.get(cid)
    assert row["status"] == "failed" and row["error"].startswith(code)
    assert store.path.read_bytes() == before
    assert bus.audit_events(cid)[-2:] == [f"{kind}.failed", "result_written"]


def test_apply_profile_is_a_dry_run(bus, worker, store):
    before = store.path.read_bytes()
    cid = submit(
        bus,
        "apply_profile",
        {"profile_id": "p", "profile_version": 1, "dry_run": True, "risk_settings": {"a": 1, "b": 2}},
    )
    worker.step()
    row = bus.get(cid)
    assert row["status"] == "succeeded"
    assert '"would_apply": false' in row["result"] and '"validated_risk_keys_n": 2' in row["result"]
    assert store.path.read_bytes() == before


def test_claim_is_exclusive_between_connections(tmp_path, bus):
    ids = [submit(bus, "apply_profile", {"profile_id": "p", "version": 1}) for _ in range(20)]
    other = CommandBus(tmp_path / "commands.sqlite3")
    claimed = []
    while (row := (bus if len(claimed) % 2 else other).claim("w")) is not None:
        claimed.append(row["id"])
    other.close()
    assert sorted(claimed) == ids


def test_idempotency_key_returns_the_existing_command(bus):
    first = bus.enqueue("apply_profile", {"a": 1}, "c", "same", time.time() + 5)
    second = bus.enqueue("apply_profile", {"a": 1}, "c", "same", time.time() + 5)
    assert first["id"] == second["id"]


@pytest.mark.parametrize(("kind", "checksum"), [("apply_profile", "other"), ("close_position", "c")])
def test_idempotency_key_reused_for_another_command_is_refused(bus, kind, checksum):
    first = bus.enqueue("apply_profile", {"a": 1}, "c", "same", time.time() + 5)
    with pytest.raises(ValidationError) as caught:
        bus.enqueue(kind, {"a": 2}, checksum, "same", time.time() + 5)
    assert caught.value.code == "validation/idempotency_key_reused" and f"command {first['id']}" in str(caught.value)
    assert bus.conn.execute("SELECT COUNT(*) FROM commands").fetchone()[0] == 1


def test_worker_heartbeat_written_each_poll(worker, tmp_path):
    worker.step()
    worker.step()
    beat = (tmp_path / "heartbeat" / "worker.json").read_text()
    assert '"ticks": 2' in beat and '"role": "worker"' in beat


def test_commands_of_a_dead_worker_are_claimed_again_after_the_lease(tmp_path, bus, worker, store):
    claimed_only, mid_run, fresh = (submit(bus, "apply_profile", {"profile_id": "p", "version": 1}) for _ in range(3))
    for cid in (claimed_only, mid_run):
        assert bus.claim("dead-worker:1")["id"] == cid
    bus.start(mid_run)
    bus.conn.execute("UPDATE commands SET claimed_at = claimed_at - 600 WHERE id IN (?, ?)", (claimed_only, mid_run))
    assert bus.claim("live-worker:2")["id"] == fresh  # held within the lease: left alone

    worker.recover()

    for cid in (claimed_only, mid_run):
        assert bus.get(cid)["status"] == "pending" and bus.get(cid)["claimed_by"] is None
    assert bus.get(fresh)["status"] == "claimed"
    assert bus.audit_events(claimed_only)[-1] == "requeued" and bus.audit_events(mid_run)[-1] == "abandoned"
    worker.step()
    worker.step()
    assert bus.get(claimed_only)["status"] == bus.get(mid_run)["status"] == "succeeded"


@pytest.mark.parametrize(
    ("kind", "payload"),
    [("close_position", {"symbol": "BTC"}), ("update_stop_loss", {"symbol": "BTC", "stop_loss": 40.0})],
)
def test_a_command_whose_worker_died_after_its_save_is_not_applied_twice(bus, worker, store, kind, payload):
    cid = submit(bus, kind, payload)
    job = Job(store, cid, bus.unfinished, 0.05)
    first = HANDLERS[kind](job, payloads.validate(kind, payload))  # the dead worker's run: saved, unreported
    bus.claim("dead-worker:1")
    bus.start(cid)
    bus.conn.execute("UPDATE commands SET claimed_at = claimed_at - 600 WHERE id = ?", (cid,))
    saved = store.load()

    worker.recover()
    worker.step()

    row = bus.get(cid)
    assert row["status"] == "succeeded", row["error"]
    assert json.loads(row["result"]) == {**{k: v for k, v in first.items() if k != "generation"}, "replayed": True}
    assert store.load().state == saved.state and store.load().generation == saved.generation


POISON = {
    "nan stop loss": ("update_stop_loss", '{"symbol": "BTC", "stop_loss": NaN}', "validation/bad_number"),
    "infinite take profit": (
        "update_take_profit",
        '{"symbol": "BTC", "take_profit": Infinity}',
        "validation/bad_number",
    ),
    "1e309 stop loss": ("update_stop_loss", '{"symbol": "BTC", "stop_loss": 1e309}', "validation/bad_number"),
    "nan close price": ("close_position", '{"symbol": "BTC", "price": NaN}', "validation/bad_number"),
    "401-digit integer": (
        "update_stop_loss",
        '{"symbol": "BTC", "stop_loss": ' + "9" * 401 + "}",
        "validation/bad_number",
    ),
    "985 levels deep": ("apply_profile", '{"a": ' + "[" * 985 + "]" * 985 + "}", "validation/too_deep"),
    "lone surrogate": ("update_stop_loss", '{"symbol": "\\ud800", "stop_loss": 5}', "validation/bad_string"),
    "too large": ("apply_profile", '{"a": "' + "x" * 70_000 + '"}', "validation/too_large"),
}


@pytest.mark.parametrize("case", POISON.values(), ids=POISON.keys())
def test_poison_payload_fails_in_the_worker_which_lives_on(bus, worker, store, case):
    kind, text, code = case
    before = store.path.read_bytes()
    bus.conn.execute(  # straight into the bus, as an older submit or another client could have put it
        "INSERT INTO commands (type, payload, checksum, idempotency_key, created_at, expires_at) VALUES (?,?,?,?,?,?)",
        (kind, text, "0" * 64, f"k-{time.time_ns()}", time.time(), time.time() + 60),
    )
    assert worker.step() is True
    row = bus.get(1)
    assert row["status"] == "failed" and row["error"].startswith(code), row["error"]
    assert store.path.read_bytes() == before
    cid = submit(bus, "update_stop_loss", {"symbol": "BTC", "stop_loss": 42.0})
    worker.step()
    assert bus.get(cid)["status"] == "succeeded"


@pytest.mark.parametrize("case", POISON.values(), ids=POISON.keys())
def test_poison_payload_is_refused_at_submit(tmp_path, case):
    kind, text, code = case
    with pytest.raises(ValidationError) as caught:
        submit_command(Settings(state_dir=tmp_path), kind, text, 0.0, 60.0, None)
    assert caught.value.code == code
    assert not (tmp_path / "commands.sqlite3").exists() or CommandBus(tmp_path / "commands.sqlite3").get(1) is None


def test_unexpected_handler_error_fails_the_command_not_the_worker(bus, worker, monkeypatch, caplog):
    monkeypatch.setitem(HANDLERS, "apply_profile", lambda *_: 1 / 0)
    cid = submit(bus, "apply_profile", {"profile_id": "p", "version": 1})
    with caplog.at_level(logging.ERROR):
        assert worker.step() is True
    row = bus.get(cid)
    assert row["status"] == "failed" and row["error"] == "worker/handler_error: ZeroDivisionError: division by zero"
    assert any("unexpected error in its handler" in r.getMessage() for r in caplog.records)


def test_a_command_that_kills_every_worker_is_dead_lettered_after_three(bus, worker, store):
    cid = submit(bus, "update_stop_loss", {"symbol": "BTC", "stop_loss": 41.0})
    for _ in range(DEAD_LETTER_AFTER):
        bus.claim("dying-worker:1")
        bus.start(cid)
        bus.conn.execute("UPDATE commands SET claimed_at = claimed_at - 600 WHERE id = ?", (cid,))
        worker.recover()
    worker.step()
    row = bus.get(cid)
    assert row["status"] == "failed" and row["error"].startswith("worker/dead_letter")
    assert bus.audit_events(cid).count("abandoned") == DEAD_LETTER_AFTER


def test_worker_once_runs_exactly_one_command(tmp_path, bus, worker, store):
    ids = [submit(bus, "update_stop_loss", {"symbol": "BTC", "stop_loss": float(i + 1)}) for i in range(3)]
    worker.run(StopSignal(), max_iterations=1)  # what `worker --once` runs
    assert [bus.get(i)["status"] for i in ids] == ["succeeded", "pending", "pending"]
    assert store.load().state["positions"]["BTC"]["stop_loss"] == 1.0


def test_finished_commands_are_pruned_after_the_retention_with_their_audit(bus):
    old, recent, pending = (submit(bus, "close_position", {"symbol": s}) for s in ("A", "B", "C"))
    for cid in (old, recent):
        bus.start(cid)
        bus.finish(cid, {"ok": True}, None)
    bus.conn.execute("UPDATE commands SET finished_at = 100 WHERE id = ?", (old,))
    assert bus.prune_finished(before=1000.0) == 1
    assert bus.get(old) is None and bus.get(recent) and bus.get(pending)
    assert not bus.conn.execute("SELECT 1 FROM command_audit_log WHERE command_id = ?", (old,)).fetchall()


def test_a_volume_with_room_is_not_full(tmp_path, monkeypatch):
    assert heartbeat.full(tmp_path) is None
    monkeypatch.setattr(heartbeat, "FULL_BELOW", 2**62)
    assert heartbeat.full(tmp_path).startswith(f"state volume {tmp_path} is full (")
