"""SIGTERM/SIGINT turned into a flag (and an optional call), and a sleep that a signal cuts short."""

from __future__ import annotations

import contextlib
import os
import select
import signal
from collections.abc import Callable
from types import FrameType


class StopSignal:
    """Install once in the main thread; ``wait`` returns early (True) once a stop was asked for."""

    def __init__(self, on_stop: Callable[[], None] | None = None) -> None:
        self.on_stop = on_stop  # called once, in the main thread, when the first stop signal arrives
        self.stopping = False
        self.received: int | None = None
        self._read, write = os.pipe()
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        first = not self.stopping
        self.stopping, self.received = True, signum
        if first and self.on_stop is not None:
            self.on_stop()

    def wait(self, seconds: float, also: int | None = None) -> bool:
        """Sleep up to `seconds`, less when a stop is asked for or the file `also` (if given) becomes readable."""
        if not self.stopping and seconds > 0:
            ready, _, _ = select.select([self._read, *([] if also is None else [also])], [], [], seconds)
            if self._read in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._read, 512)
        return self.stopping
