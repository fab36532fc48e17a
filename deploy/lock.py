"""One deploy at a time: an flock on `<data_dir>/deploy.lock` that says who holds it and since when.

The kernel drops the lock when the holding process ends, so a dead deploy never
blocks the next one; the holder line is only information.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from deploy import ledger
from deploy.errors import LockHeld

FILENAME = "deploy.lock"


def holder_line(what: str, pid: int, since: str, by: str) -> str:
    return json.dumps({"by": by, "pid": pid, "since": since, "what": what}, sort_keys=True)


def describe(text: str) -> tuple[str, str]:
    """`(holder, since)` from the lock file's content, as well as it can be read."""
    try:
        info = json.loads(text)
        return f"{info['by']} (pid {info['pid']}, {info['what']})", str(info["since"])
    except (json.JSONDecodeError, KeyError, TypeError):
        return "another process", "an unknown time"


@contextlib.contextmanager
def held(data_dir: Path, what: str) -> Iterator[None]:
    """Hold the deploy lock for the block; raise `LockHeld` at once if another process holds it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / FILENAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, lock_path)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (holder_line(what, os.getpid(), ledger.now(), ledger.operator()) + "\n").encode(), 0)
        yield
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def _acquire(fd: int, lock_path: Path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder, since = describe(lock_path.read_text())
        raise LockHeld(holder, since, str(lock_path)) from None
