"""Progress of a command's steps: one line per step when it ends, with its outcome and duration.

    deploy: back up tradebot_state into tradebot_state-backup-20261122T040000.000Z … ok 0.4 s
    deploy: wait until bot and worker are healthy … failed after 6.1 s
    volume-rebuild [2/5] backup … ok 1.4 s: 2014 files proven identical

With `--verbose` (a `Voice` that is verbose) each step is also named when it starts, with what it is
doing (`deploy: back up tradebot_state into … …`), and the build echoes its Dockerfile steps.
Procedures walk their steps through it (`deploy.procedures.procedure.walk_steps`, which times them);
the volume commands, whose steps are known up front, number theirs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

Say = Callable[[str], None]


@dataclass(frozen=True)
class Voice:
    """A `Say` that also knows how much to say: the operator's `--verbose`. Lines said from several threads (steps
    walked beside each other) come out whole, one after another (`print` writes a line and its end apart)."""

    line: Say = print
    verbose: bool = False
    _one_at_a_time: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def __call__(self, text: str) -> None:
        with self._one_at_a_time:
            self.line(text)


def verbose(say: Say) -> bool:
    """Whether `say` asks for every line (a verbose `Voice`)."""
    return isinstance(say, Voice) and say.verbose


@dataclass
class Progress:
    command: str
    say: Say
    total: int = 0  # the steps are numbered `[n/total]` when it is given
    number: int = 0

    def start(self, name: str, doing: str = "") -> None:
        """A step starts now: named (with what it is doing) only when the operator asked for every line."""
        self.number += 1
        if verbose(self.say):
            self.say(f"{self._head(name)}: {doing} …" if doing else f"{self._head(name)} …")

    def done(self, name: str, proved: str, seconds: float) -> None:
        """The step started last succeeded, having proved `proved` (or "" when it proves nothing)."""
        self.say(f"{self._head(name)} … ok {seconds:.1f} s" + (f": {proved}" if proved else ""))

    def failed(self, name: str, seconds: float) -> None:
        """The step started last failed (the error itself is said once, where the command ends)."""
        self.say(f"{self._head(name)} … failed after {seconds:.1f} s")

    def _head(self, name: str) -> str:
        return f"{self.command} [{self.number}/{self.total}] {name}" if self.total else f"{self.command}: {name}"
