"""Progress of a command's steps: each named when it starts, and what it did with its duration when it ends.

    deploy: back up tradebot_state into tradebot_state-backup-20261122T040000.000Z …
    deploy: back up tradebot_state into tradebot_state-backup-20261122T040000.000Z: done in 0.4 s
    volume-rebuild [2/5] backup: copying legacy into legacy-backup-20261122T040000.000Z …
    volume-rebuild [2/5] backup: 2014 files proven identical in 1.4 s

Deploy, rollback and restore walk their steps through it (`deploy.procedures.procedure.walk`); the volume
commands, whose steps are known up front, number theirs. A step that raises is named when it
starts and never said to be done.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

Say = Callable[[str], None]


@dataclass
class Progress:
    command: str
    say: Say
    total: int = 0  # the steps are numbered `[n/total]` when it is given
    number: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # each step's seconds, by name

    @contextlib.contextmanager
    def step(self, name: str, doing: str = "") -> Iterator[Callable[[str], None]]:
        """Name the step; the block may call the yielded function with what it did ("done" else)."""
        self.number += 1
        head = f"{self.command} [{self.number}/{self.total}] {name}" if self.total else f"{self.command}: {name}"
        self.say(f"{head}: {doing} …" if doing else f"{head} …")
        outcome = ["done"]
        start = time.perf_counter()
        yield outcome.append
        self.timings[name] = time.perf_counter() - start
        self.say(f"{head}: {outcome[-1]} in {self.timings[name]:.1f} s")
