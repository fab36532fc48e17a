"""Progress of a volume command: each step named when it starts and timed when it ends.

volume-rebuild [2/5] backup: copying legacy into legacy-backup-20261122T040000.000Z …
volume-rebuild [2/5] backup: 2014 files proven identical (1.42 s)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

Say = Callable[[str], None]


@dataclass
class Steps:
    command: str
    total: int
    say: Say
    number: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str, doing: str) -> Iterator[Callable[[str], None]]:
        """Name the step; the block calls the yielded function with what it proved; the duration follows."""
        self.number += 1
        prefix = f"{self.command} [{self.number}/{self.total}] {name}:"
        self.say(f"{prefix} {doing} …")
        outcome: list[str] = ["done"]
        start = time.perf_counter()
        yield outcome.append
        self.timings[name] = time.perf_counter() - start
        self.say(f"{prefix} {outcome[-1]} ({self.timings[name]:.2f} s)")
