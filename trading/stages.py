"""The stage protocol: how far a bot or worker has come, said on stderr for the deploy and in its heartbeat.

Stages, in order (`ORDER`); a goal is met by any later stage:

    started        python runs; said by `trading.__main__` before `trading.cli` is imported
    imported       the code is loaded; carries `release`, the digest of trading/ (the image's code label)
    configured     every TRADEBOT_* setting is valid (a bad one exits 9 before this line)
    standing_by    the role lock is held by another process (`waiting_for` names it); said again only when
                   the holder changes (the heartbeat is refreshed every second)
    fenced         the role lock is ours, but the other role's lock is held by another release
    locked         the role lock is ours; nothing before this opened the state, the bus or the backups
    state_loaded   bot: the state document is loaded; worker: the command bus and the store are open
    running        the first tick (bot) or poll (worker) is done; carries `first_tick_ts`
    stopping       SIGTERM or SIGINT received
    stopped        the final save is done; carries `last_tick_ts` and `ticks`

Each stage is one log line of the logger `trading.stage`: the usual prefix, then `MARKER` and one
JSON object (`line`). Until `running`, a pulse thread repeats the current stage every
`PULSE_SECONDS` with the main thread's CPU seconds (`cpu`) and run state (`run`: R, S or D), so a
reader tells a start that works from one that hangs; it is silent while the process waits for a
lock (`QUIET`), so a long standby does not flood the log.

Standard library only: `started` must come before anything of `trading` beyond this module loads.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PROTOCOL = 2
MARKER = "TRADEBOT-STAGE "
ROLES = ("bot", "worker")
ORDER = (
    "started",
    "imported",
    "configured",
    "standing_by",
    "fenced",
    "locked",
    "state_loaded",
    "running",
    "stopping",
    "stopped",
)
STARTED, IMPORTED, CONFIGURED, STANDING_BY, FENCED, LOCKED, STATE_LOADED, RUNNING, STOPPING, STOPPED = ORDER
WAITING = (STANDING_BY, FENCED)
QUIET = (*WAITING, RUNNING, STOPPING, STOPPED)
PULSE_SECONDS = 0.5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"  # the one log format of trading
log = logging.getLogger("trading.stage")

Writer = Callable[[dict[str, Any]], None]


def rank(stage: str) -> int:
    """The position of `stage` in `ORDER`; -1 for an unknown one."""
    return ORDER.index(stage) if stage in ORDER else -1


def role_of(argv: Sequence[str]) -> str | None:
    """The role a command line runs (`bot` or `worker`), None for every other command."""
    return argv[0] if argv and argv[0] in ROLES else None


def main_thread(pid: int | None = None, proc: str = "/proc") -> tuple[float | None, str | None]:
    """The CPU seconds (user + system) and run state of the main thread of process `pid` (this one)."""
    pid = pid or os.getpid()
    try:
        fields = Path(f"{proc}/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None, None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), fields[0]


def line(doc: dict[str, Any]) -> str:
    """The text after the log prefix for one stage report."""
    return MARKER + json.dumps(doc, sort_keys=True, separators=(",", ":"))


class Reporter:
    """One process's stage: its log line, and (once `attach`ed) its own heartbeat file."""

    def __init__(self, role: str, clock: Callable[[], float] = time.time) -> None:
        self.role, self.clock, self.host, self.pid = role, clock, socket.gethostname(), os.getpid()
        self.stage, self.reached, self.pulses = STARTED, {STARTED: clock()}, 0
        self.release: str | None = None
        self.waiting_for: dict[str, Any] | None = None
        self.first_tick_ts: float | None = None
        self.ticked: dict[str, Any] = {}  # the newest tick's heartbeat document
        self.write: Writer | None = None
        self.lock = threading.RLock()

    def reach(self, stage: str, **fields: Any) -> None:
        """Say `stage` (again, when it is the current one: a refreshed `waiting_for`)."""
        with self.lock:
            if stage != self.stage:
                self.reached.setdefault(stage, self.clock())
            self.stage = stage
            self.release = fields.pop("release", self.release)
            self.waiting_for = fields.pop("waiting_for", None) if stage in WAITING else None
            self.say(**fields)
            self.beat()

    def waiting(self, stage: str, waiting_for: dict[str, Any] | None) -> None:
        """Stand by (or stay fenced): the line again only when what it waits for changed; the heartbeat always."""
        with self.lock:
            if stage == self.stage and waiting_for == self.waiting_for:
                self.beat()
                return
            self.reach(stage, waiting_for=waiting_for)

    def pulse(self) -> None:
        """Repeat the current stage with the main thread's CPU, unless the process waits or runs."""
        with self.lock:
            if self.stage not in QUIET:
                self.pulses += 1
                cpu, run = main_thread(self.pid)
                self.say(cpu=cpu, run=run, pulse=self.pulses)

    def say(self, **fields: Any) -> None:
        doc = {"protocol": PROTOCOL, "role": self.role, "stage": self.stage, "ts": self.clock(), "pid": self.pid}
        doc |= {"host": self.host, "release": self.release, "waiting_for": self.waiting_for}
        log.info("%s", line(doc | fields))

    def attach(self, write: Writer) -> None:
        """From now on each stage (and `beat`) also goes to this process's heartbeat file through `write`."""
        with self.lock:
            self.write = write
            self.beat()

    def beat(self) -> None:
        """Write this process's heartbeat file now (a standby refreshes it while it waits)."""
        with self.lock:
            if self.write is not None:
                self.write(self.document())

    def document(self) -> dict[str, Any]:
        """The heartbeat document: the newest tick's, with the stage facts."""
        with self.lock:
            facts = {"protocol": PROTOCOL, "stage": self.stage, "stage_ts": self.reached[self.stage]}
            facts |= {"stages": dict(self.reached), "release": self.release, "waiting_for": self.waiting_for}
            return {**self.ticked, **facts, "first_tick_ts": self.first_tick_ts, "beat_ts": self.clock()}

    def tick(self, doc: dict[str, Any], put: Writer) -> None:
        """Take the heartbeat document of a tick (or poll) just done and write it with `put`; the first one makes
        the process `running`, said once that document is written: a reader who saw the line finds the code
        report in the heartbeat."""
        with self.lock:
            self.ticked = doc
            first = self.first_tick_ts is None
            if first:
                self.first_tick_ts = float(doc.get("last_tick_ts") or self.clock())
                self.reached[RUNNING] = self.clock()
                self.stage = RUNNING
            put(self.document())
            if first:
                self.say(first_tick_ts=self.first_tick_ts)

    def stopped(self) -> None:
        """The final save is done."""
        self.reach(STOPPED, last_tick_ts=self.ticked.get("last_tick_ts"), ticks=self.ticked.get("ticks", 0))


class Pulse(threading.Thread):
    def __init__(self, reporter: Reporter, every: float = PULSE_SECONDS) -> None:
        super().__init__(name="trading.stage pulse", daemon=True)
        self.reporter, self.every = reporter, every

    def run(self) -> None:
        while True:
            time.sleep(self.every)
            self.reporter.pulse()


_current: Reporter | None = None


def begin(role: str) -> Reporter:
    """Say `started` for this process and start its pulse (once, from `trading.__main__`)."""
    global _current
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    _current = Reporter(role)
    _current.say()
    Pulse(_current).start()
    return _current


def current() -> Reporter | None:
    """This process's reporter; None when it runs no role (`status`, `health`), or in a test that made none."""
    return _current
