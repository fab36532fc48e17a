"""``flock`` helpers: a lock file that is never deleted or replaced, and a self-test of the mount.

The self-test holds the lock and asks a forked child to take it without blocking; on a mount
where ``flock`` does not exclude between processes (some network filesystems) the child gets it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from trading.errors import LockUnsafeError


def open_lock(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o660)


@contextlib.contextmanager
def exclusive(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def try_exclusive(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def child_can_lock(path: Path) -> bool:
    """Whether a separate process can take the lock on ``path`` right now."""
    pid = os.fork()
    if pid == 0:  # child: report through the exit status only
        code = 1
        with contextlib.suppress(BaseException):
            code = 0 if try_exclusive(open_lock(path)) else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def self_test(fd: int, path: Path) -> None:
    """Refuse a mount where another process could take a lock this process holds."""
    with exclusive(fd):
        if child_can_lock(path):
            raise LockUnsafeError(path)
