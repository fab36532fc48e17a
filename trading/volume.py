"""A full state volume: told apart from other errors, waited out, and said once each way.

Full is ENOSPC or EDQUOT (an ``OSError``, or the cause of a ``StateWriteError``), SQLite's
``SQLITE_FULL``, or an SQLite I/O error while the volume has no room (on a full volume SQLite cannot
even size its shared memory: ``SQLITE_IOERR_SHMSIZE`` when the command bus is opened).

``Volume`` is one process's view: the first full write starts a wait (an ERROR naming the volume
and how full it is, and what the process holds back); while waiting the process writes nothing it
would lose, and the wait ends, with one WARNING, once the volume has room for a save again: free
space of ``heartbeat.FULL_BELOW`` beyond the size of the state document.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from trading import heartbeat
from trading.errors import StateWriteError

log = logging.getLogger("trading.volume")


def is_full(exc: BaseException, directory: Path) -> bool:
    if isinstance(exc, StateWriteError):
        exc = exc.cause
    if isinstance(exc, OSError):
        return exc.errno in heartbeat.FULL
    code = getattr(exc, "sqlite_errorcode", None) if isinstance(exc, sqlite3.OperationalError) else None
    if code is None:
        return False
    return code == sqlite3.SQLITE_FULL or (
        code & 0xFF == sqlite3.SQLITE_IOERR and heartbeat.full(directory) is not None
    )


class Volume:
    def __init__(self, state_file: Path, role: str, holds_back: str) -> None:
        self.state_file, self.role, self.holds_back = state_file, role, holds_back
        self.waiting = False

    def failed(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the volume being full; the first such failure of a wait is logged."""
        directory = self.state_file.parent
        if not is_full(exc, directory):
            return False
        if not self.waiting:
            why = heartbeat.full(directory) or f"state volume {directory} has no room for a save"
            log.error("disk full: %s (%s); the %s %s until there is room", why, exc, self.role, self.holds_back)
        self.waiting = True
        return True

    def wait(self) -> bool:
        """True while a wait lasts; it ends (said once) when the volume has room for a save."""
        if self.waiting and self.has_room():
            self.waiting = False
            log.warning("room again on the state volume (%d KiB free); the %s resumes", self.free() // 1024, self.role)
        return self.waiting

    def has_room(self) -> bool:
        try:
            need = heartbeat.FULL_BELOW + self.state_file.stat().st_size
        except FileNotFoundError:
            need = heartbeat.FULL_BELOW
        return self.free() >= need

    def free(self) -> int:
        stat = os.statvfs(self.state_file.parent)
        return stat.f_bavail * stat.f_frsize
