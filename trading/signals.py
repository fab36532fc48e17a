"""SIGTERM/SIGINT turned into a flag, and a sleep that a signal cuts short."""

from __future__ import annotations

import contextlib
import os
import select
import signal
from types import FrameType


class StopSignal:
    """Install once in the main thread; ``wait`` returns early (True) once a stop was asked for."""

    def __init__(self) -> None:
        self.stopping = False
        self.received: int | None = None
        self._read, write = os.pipe()
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping, self.received = True, signum

    def wait(self, seconds: float) -> bool:
        if not self.stopping and seconds > 0:
            ready, _, _ = select.select([self._read], [], [], seconds)
            if ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._read, 512)
        return self.stopping
