"""Polling for a condition in tests, with a bound and a message that names what never came."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    check: Callable[[], object], timeout: float = 20.0, what: str = "condition", every: float = 0.02
) -> object:
    """The first truthy value of `check()`; AssertionError when `timeout` seconds pass without one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
