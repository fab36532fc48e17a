"""The release ledger: one JSON line per deploy or rollback attempt, appended and never rewritten.

Lives at `<data_dir>/releases.jsonl`. Each line is written with one `write` on
an O_APPEND descriptor and fsynced, so a crash leaves whole lines only.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FILENAME = "releases.jsonl"
SUCCEEDED = "succeeded"
ROLLED_BACK = "rolled_back"
FAILED = "failed"
RELEASE_EVENTS = ("deploy", "rollback", "restore")  # others (volume-rebuild, volume-retire) put no release live
COLUMNS = ("finished_at", "event", "commit", "outcome", "previous", "by", "state", "cause")


@dataclass(frozen=True)
class Entry:
    event: str
    commit: str
    image_id: str
    code_digest: str
    started_at: str
    finished_at: str
    by: str
    outcome: str
    cause: str = ""
    previous: str = ""
    dirty: bool = False
    backup: str = ""
    restored_from: str = ""

    @classmethod
    def from_json(cls, line: str) -> Entry:
        """Raises ValueError (or TypeError, for a missing field) when the line is no entry."""
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError(f"not a ledger entry: {line[:40]!r}")
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})

    @property
    def is_release(self) -> bool:
        return self.event in RELEASE_EVENTS

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry, e.g. in a CI container
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def path(data_dir: Path) -> Path:
    return data_dir / FILENAME


def append(data_dir: Path, entry: Entry) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path(data_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (entry.to_json() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read(data_dir: Path) -> list[Entry]:
    """Every entry, oldest first; a line that is no entry (a torn last line after a crash) is skipped."""
    try:
        lines = path(data_dir).read_text().splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(Entry.from_json(line))
        except (ValueError, TypeError):
            continue
    return entries


def last_success_before(entries: Iterable[Entry], commit: str) -> Entry | None:
    """The newest successful release of a commit other than `commit`."""
    for entry in reversed(list(entries)):
        if entry.is_release and entry.outcome == SUCCEEDED and entry.commit != commit:
            return entry
    return None


def table(entries: Iterable[Entry]) -> str:
    rows = [COLUMNS] + [_row(entry) for entry in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _row(entry: Entry) -> tuple[str, ...]:
    return (
        entry.finished_at,
        entry.event,
        entry.commit[:12] + ("-dirty" if entry.dirty else ""),
        entry.outcome,
        entry.previous[:12],
        entry.by,
        _state(entry),
        entry.cause,
    )


def _state(entry: Entry) -> str:
    """Which state backup the attempt made (deploy, rollback) or put back (restore), by its time."""
    if entry.restored_from:
        return "from " + entry.restored_from.rpartition("-backup-")[2]
    return "backup " + entry.backup.rpartition("-backup-")[2] if entry.backup else ""
