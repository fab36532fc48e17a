"""The command bus: SQLite (WAL) tables ``commands`` and ``command_audit_log`` in the state dir.

Status runs pending -> claimed -> running -> succeeded | failed.  A claim is one
``UPDATE ... RETURNING`` inside ``BEGIN IMMEDIATE``, so two workers never claim the same row.

A worker that dies mid-command leaves its row behind; ``recover_abandoned`` puts rows held longer
than a lease back to ``pending``, so another worker claims them: a command is never left without
an outcome.  ``claimed`` ones are ``requeued`` (no handler ran); ``running`` ones are ``abandoned``
(their worker died inside the handler, which may have committed its effect: a handler that changes
the state records the command in it, ``trading.applied``, so running it again reports the first
outcome instead of applying twice).  ``crashes`` counts a command's own ``abandoned`` events: the
worker dead-letters it after ``DEAD_LETTER_AFTER`` instead of crashing again (another command with
the same payload starts with none).  ``unfinished`` tells the handlers which replay records a
command may still need.  A live worker that could not finish a command (the volume was full) gives
it back with ``release``: ``pending`` again, audit ``released``, no crash counted.

Finished commands are kept for a retention period (``TRADEBOT_COMMAND_RETENTION_SECONDS``), then
pruned by the worker with their audit rows (``prune_finished``).

An idempotency key names one command: the same key with the same type and payload returns the
first command; with anything else it is refused (``validation/idempotency_key_reused``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from trading.errors import ValidationError

SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    checksum TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'claimed', 'running', 'succeeded', 'failed')),
    result TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    claimed_at REAL,
    claimed_by TEXT,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS commands_by_status ON commands (status, id);
DROP INDEX IF EXISTS commands_by_payload;
CREATE TABLE IF NOT EXISTS command_audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id INTEGER NOT NULL REFERENCES commands (id),
    event_type TEXT NOT NULL,
    detail TEXT,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_command ON command_audit_log (command_id, event_type);
"""
FINAL = ("succeeded", "failed")
DEAD_LETTER_AFTER = 3
RELEASE_SQL = (
    "UPDATE commands SET status = 'pending', claimed_by = NULL, claimed_at = NULL "
    "WHERE status = ? AND claimed_at < ? RETURNING id, claimed_by"
)
CRASHES_SQL = "SELECT COUNT(*) FROM command_audit_log WHERE command_id = ? AND event_type = 'abandoned'"


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


class CommandBus:
    """The bus at ``path``, opened at its first use (a worker starting on a full volume waits for room to open it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def enqueue(self, kind: str, payload: dict, checksum: str, key: str, expires_at: float) -> dict[str, Any]:
        """Insert a pending command; the same idempotency key returns the existing one (same type and payload)."""
        self.conn.execute(
            "INSERT INTO commands (type, payload, checksum, idempotency_key, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
            (kind, json.dumps(payload, sort_keys=True), checksum, key, time.time(), expires_at),
        )
        row = dict(self.conn.execute("SELECT * FROM commands WHERE idempotency_key = ?", (key,)).fetchone())
        if (row["type"], row["checksum"]) != (kind, checksum):
            raise ValidationError(
                "validation/idempotency_key_reused",
                f"idempotency key {key!r} already names command {row['id']} ({row['type']}, status {row['status']}) "
                "with a different payload; nothing was enqueued. Use a new key for a new command.",
            )
        return row

    def crashes(self, command_id: int) -> int:
        """How often a worker died in the middle of this command."""
        return int(self.conn.execute(CRASHES_SQL, (command_id,)).fetchone()[0])

    def unfinished(self, command_ids: Collection[int]) -> set[int]:
        """Those of ``command_ids`` still in the bus without an outcome: they may run again."""
        marks = ",".join("?" * len(command_ids))
        sql = f"SELECT id FROM commands WHERE id IN ({marks}) AND status NOT IN ('succeeded', 'failed')"
        return {row[0] for row in self.conn.execute(sql, tuple(command_ids))}

    def claim(self, worker_id: str) -> dict[str, Any] | None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute(
                "UPDATE commands SET status = 'claimed', claimed_by = ?, claimed_at = ? WHERE id = "
                "(SELECT id FROM commands WHERE status = 'pending' ORDER BY id LIMIT 1) AND status = 'pending' "
                "RETURNING *",
                (worker_id, time.time()),
            ).fetchone()
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:  # SQLite ends the transaction itself on some errors (SQLITE_FULL)
                self.conn.execute("ROLLBACK")
            raise
        return None if row is None else dict(row)

    def recover_abandoned(self, lease_seconds: float, now: float) -> dict[str, list[int]]:
        """Put commands claimed more than ``lease_seconds`` ago and never finished back to ``pending``."""
        cutoff = now - lease_seconds
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            requeued = self._settle(RELEASE_SQL, ("claimed", cutoff), "requeued")
            abandoned = self._settle(RELEASE_SQL, ("running", cutoff), "abandoned")
        return {"requeued": requeued, "abandoned": abandoned}

    def release(self, command_id: int, worker_id: str, why: str) -> None:
        """Give a command this worker holds back to ``pending`` (audit ``released``, no crash): it runs again."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            released = self.conn.execute(
                "UPDATE commands SET status = 'pending', claimed_by = NULL, claimed_at = NULL "
                "WHERE id = ? AND claimed_by = ? AND status IN ('claimed', 'running')",
                (command_id, worker_id),
            ).rowcount
            if released:
                self._audit(command_id, "released", {"why": why})

    def started_before(self, command_id: int) -> bool:
        """Whether a run before the current one started this command's handler (and may have saved its effect)."""
        sql = "SELECT COUNT(*) FROM command_audit_log WHERE command_id = ? AND event_type = 'started'"
        return int(self.conn.execute(sql, (command_id,)).fetchone()[0]) > 1

    def _settle(self, sql: str, params: tuple, event: str) -> list[int]:
        rows = self.conn.execute(sql, params).fetchall()
        for row in rows:
            self._audit(row["id"], event, {"claimed_by": row["claimed_by"]})
        return sorted(row["id"] for row in rows)

    def prune_finished(self, before: float) -> int:
        """Delete commands that finished before `before` (epoch seconds) and their audit rows; how many.

        An idempotency key of a pruned command names nothing any more: a resubmission runs again.
        """
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            doomed = "SELECT id FROM commands WHERE status IN ('succeeded', 'failed') AND finished_at < ?"
            self.conn.execute(f"DELETE FROM command_audit_log WHERE command_id IN ({doomed})", (before,))
            return self.conn.execute(f"DELETE FROM commands WHERE id IN ({doomed})", (before,)).rowcount

    def start(self, command_id: int) -> None:
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("UPDATE commands SET status = 'running' WHERE id = ?", (command_id,))
            self._audit(command_id, "started", None)

    def audit(self, command_id: int, event: str, detail: dict | None = None) -> None:
        self._audit(command_id, event, detail)

    def finish(self, command_id: int, result: dict | None, error: str | None) -> None:
        status = "failed" if error else "succeeded"
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "UPDATE commands SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ?",
                (
                    status,
                    None if result is None else json.dumps(result, sort_keys=True),
                    error,
                    time.time(),
                    command_id,
                ),
            )
            self._audit(command_id, "result_written", {"status": status})

    def get(self, command_id: int) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
        return None if row is None else dict(row)

    def audit_events(self, command_id: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT event_type FROM command_audit_log WHERE command_id = ? ORDER BY id", (command_id,)
        )
        return [r[0] for r in rows]

    def _audit(self, command_id: int, event: str, detail: dict | None) -> None:
        self.conn.execute(
            "INSERT INTO command_audit_log (command_id, event_type, detail, at) VALUES (?, ?, ?, ?)",
            (command_id, event, None if detail is None else json.dumps(detail, sort_keys=True), time.time()),
        )
