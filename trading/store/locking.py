"""``flock`` helpers: a lock file that is never deleted or replaced, a wait for one, and a self-test of the mount.

The self-test asks a forked child to take a lock this process holds without blocking; on a mount
where ``flock`` does not exclude between processes (some network filesystems) the child gets it.

``wait_exclusive`` blocks on the lock in a thread: the kernel wakes a blocked waiter the moment the
holder lets go (a poll would add its interval), while the main thread stays free to beat and to
notice a signal (a ``flock`` blocked in the main thread is retried after a signal, PEP 475).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

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


class Stoppable(Protocol):
    stopping: bool

    def wait(self, seconds: float, also: int | None = None) -> bool: ...


def wait_exclusive(fd: int, stop: Stoppable, every: float, waiting: Callable[[], None]) -> bool:
    """Take the lock on `fd`, waiting as long as it takes: True once it is ours, False when `stop` asks to stop
    first (the lock may still come to this process; it goes when the process ends). `waiting()` runs
    every `every` seconds meanwhile."""
    got, (read, write) = threading.Event(), os.pipe()

    def block() -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(write, b"!")
        got.set()  # after the write: the pipe may be closed once this is set

    threading.Thread(target=block, name=f"flock {fd}", daemon=True).start()
    while not got.is_set():
        if stop.wait(every, also=read):
            return False
        if not got.is_set():
            waiting()
    os.close(read)
    os.close(write)
    return not stop.stopping


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
        refuse_unsafe(path)


def refuse_unsafe(path: Path) -> None:
    """`LockUnsafeError` when another process can take the lock on `path`, which this process holds."""
    if child_can_lock(path):
        raise LockUnsafeError(path)
