"""Were two processes of one role ever trading (or applying commands) at once? The handover's checker.

Each process's trading interval is [`first_tick_ts` of its `running` line, `last_tick_ts` of its
`stopped` line] (its stage lines, `trading.stages`). Two checks, both of which must find nothing:

- `overlaps`: two processes' intervals overlap;
- `strays`: a sample of the lock's holder record (`Sampler`, every few ms) taken inside one process's
  interval names another process.

`gaps` gives the handover's cost: from one process's last tick to the next one's first.
Used by the process tests of the standby handover and by the handover benchmark.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deploy.steps.liveness import parse_lines


@dataclass(frozen=True)
class Interval:
    pid: int
    first: float
    last: float


def intervals(lines: Iterable[dict]) -> list[Interval]:
    """Each process's trading interval, by first tick; a process still running ends at +inf."""
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for doc in lines:
        if doc.get("stage") == "running" and doc.get("first_tick_ts") is not None:
            first[doc["pid"]] = float(doc["first_tick_ts"])
        if doc.get("stage") == "stopped" and doc.get("last_tick_ts") is not None:
            last[doc["pid"]] = float(doc["last_tick_ts"])
    found = [Interval(pid, ts, last.get(pid, float("inf"))) for pid, ts in first.items()]
    return sorted(found, key=lambda interval: interval.first)


def lines_of(paths: Iterable[Path]) -> list[dict]:
    """The stage lines in the log files at `paths`."""
    return [doc for path in paths for doc in parse_lines(path.read_bytes())]


def overlaps(found: list[Interval]) -> list[tuple[Interval, Interval]]:
    return [(a, b) for i, a in enumerate(found) for b in found[i + 1 :] if b.first <= a.last and a.first <= b.last]


def gaps(found: list[Interval]) -> list[float]:
    """Seconds from each process's last tick to the next one's first."""
    return [b.first - a.last for a, b in itertools.pairwise(found)]


class Sampler(threading.Thread):
    """Reads the holder record of the lock file at `path` every `every` seconds until `stop`ped."""

    def __init__(self, path: Path, every: float = 0.005) -> None:
        super().__init__(daemon=True, name="holder sampler")
        self.path, self.every, self.done = path, every, threading.Event()
        self.samples: list[tuple[float, int | None]] = []

    def run(self) -> None:
        while not self.done.wait(self.every):
            at = time.time()
            self.samples.append((at, holder_pid(self.path)))

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=5)


def holder_pid(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def strays(found: list[Interval], samples: Iterable[tuple[float, int | None]]) -> list[tuple[float, int | None, int]]:
    """(time, holder, trader) of every sample inside a trader's interval whose holder is not that trader."""
    return [
        (at, pid, interval.pid)
        for at, pid in samples
        for interval in found
        if interval.first <= at <= interval.last and pid != interval.pid
    ]
