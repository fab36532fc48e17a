"""Progress of a command's steps: each named when it starts, and what it did with its duration when it ends.

    deploy: back up tradebot_state into tradebot_state-backup-20261122T040000.000Z …
    deploy: back up tradebot_state into tradebot_state-backup-20261122T040000.000Z: done in 0.4 s
    volume-rebuild [2/5] backup: copying legacy into legacy-backup-20261122T040000.000Z …
    volume-rebuild [2/5] backup: 2014 files proven identical in 1.4 s

Procedures walk their steps through it (`deploy.procedures.procedure.walk_steps`, which times them);
the volume commands, whose steps are known up front, number theirs. A step that raises is named
when it starts and never said to be done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Say = Callable[[str], None]


@dataclass
class Progress:
    command: str
    say: Say
    total: int = 0  # the steps are numbered `[n/total]` when it is given
    number: int = 0

    def start(self, name: str, doing: str = "") -> None:
        """Name the step that starts now (and what it is doing)."""
        self.number += 1
        self.say(f"{self._head(name)}: {doing} …" if doing else f"{self._head(name)} …")

    def done(self, name: str, outcome: str, seconds: float) -> None:
        """Say what the step started last did ("done", or what it proved) and how long it took."""
        self.say(f"{self._head(name)}: {outcome} in {seconds:.1f} s")

    def _head(self, name: str) -> str:
        return f"{self.command} [{self.number}/{self.total}] {name}" if self.total else f"{self.command}: {name}"
