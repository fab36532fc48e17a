"""What counts as a full state volume, and that a process says so once when a wait starts and once when it ends."""

from __future__ import annotations

import errno
import logging
import sqlite3

import pytest

from trading import heartbeat
from trading.errors import StateWriteError
from trading.volume import Volume, is_full


def sqlite_error(code: int) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError("database or disk is full")
    exc.sqlite_errorcode = code
    return exc


SQLITE_IOERR_SHMSIZE = sqlite3.SQLITE_IOERR | (19 << 8)  # what opening the bus on a full volume raises


@pytest.mark.parametrize(
    ("exc", "full"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), True),
        (OSError(errno.EIO, "Input/output error"), False),
        (sqlite_error(sqlite3.SQLITE_FULL), True),
        (sqlite_error(SQLITE_IOERR_SHMSIZE), False),  # the volume has room: an I/O error is an I/O error
        (sqlite_error(sqlite3.SQLITE_BUSY), False),
        (ValueError("no"), False),
    ],
)
def test_what_counts_as_a_full_volume(tmp_path, exc, full):
    assert is_full(exc, tmp_path) is full
    if isinstance(exc, OSError):  # a save that failed so
        assert is_full(StateWriteError(tmp_path / "s.json", exc), tmp_path) is full


def test_an_sqlite_io_error_on_a_volume_without_room_is_a_full_volume(tmp_path, monkeypatch):
    monkeypatch.setattr(heartbeat, "FULL_BELOW", 2**62)
    assert is_full(sqlite_error(SQLITE_IOERR_SHMSIZE), tmp_path)


def test_a_wait_is_said_once_when_it_starts_and_once_when_it_ends(tmp_path, caplog):
    (tmp_path / "live_portfolio.json").write_text("{}")
    volume = Volume(tmp_path / "live_portfolio.json", "bot", "makes no trade")
    with caplog.at_level(logging.WARNING):
        assert volume.failed(OSError(errno.ENOSPC, "No space left on device"))
        assert volume.failed(sqlite_error(sqlite3.SQLITE_FULL))
        assert not volume.failed(OSError(errno.EIO, "Input/output error"))
        assert volume.wait() is False  # this directory has room: the wait ends
        assert volume.wait() is False
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2 and said[0].startswith("disk full: ")
    assert "the bot makes no trade until there is room" in said[0]
    assert said[1].startswith("room again on the state volume (") and said[1].endswith("the bot resumes")
