"""What the engine shows of one container: its state, its new log lines, its CPU, and the evidence it leaves.

`Watch` is looked at as often as a judge asks (`look`); `evidence` keeps what a failed container said
before it is removed. Rules:

- A look is one inspect and one `logs(since=…)`: a few milliseconds of engine calls, cheap enough ten
  times a second. A container removed meanwhile is `gone`, never an error.
- Only stderr is read while watching: the stage lines go there (`trading.stages`), and one stream's
  lines come in time order. The engine keeps both streams' lines in the order its two copiers wrote
  them, not by their timestamps, so a `since` over both could skip lines.
- `since` is inclusive and a float holds microseconds: a look asks from a microsecond before the newest
  line it has and drops what it has seen by nanosecond timestamp (and, at that timestamp, by count).
  The first look starts after an earlier run's `FinishedAt`: a container started again (a rollback starts
  the old ones by id) is judged by what its new process says, never by an earlier run's `running` line.
- The container's CPU (its cgroup, health-check execs included) comes from the engine's stats stream,
  read by a thread from `start` on: the stream gives one sample a second at no cost per sample, while
  a one-shot stats call waits a second for the daemon's collector.
- From `start` on a thread also follows the container's stderr, only to set `news` when a line comes: a
  judge waiting on it looks again as soon as a stage is said, not at its next cycle (the look reads the
  lines). `close` ends it. Not over SSH: docker-py cannot cut a stream short there (`cancellable`), and a
  stream left open would keep an SSH connection until the container's next line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import docker
import docker.errors

from deploy.engine.compose import SERVICE_LABEL
from trading import stages

GONE = "gone"  # the status of a container the engine no longer has
EVIDENCE_LINES = 40
# How far back evidence reads: the engine takes a tail of both streams before it drops the one not asked for.
EVIDENCE_TAIL = 2000


@dataclass(frozen=True)
class State:
    """One container as its inspect data shows it."""

    status: str  # created, running, restarting, paused, exited, dead, or GONE
    exit_code: int | None  # None unless it has exited (a restarted one that runs again has none)
    restarts: int = 0
    image: str = ""
    hostname: str = ""
    name: str = ""
    service: str = ""


def state(attrs: Mapping[str, Any] | None) -> State:
    """The state in `attrs` (a container's inspect data; None: the engine has no such container)."""
    if attrs is None:
        return State(GONE, None)
    found = attrs.get("State") or {}
    status = str(found.get("Status", ""))
    exited = status in ("exited", "dead", "restarting")  # running again after a restart: its exit code is gone
    return State(
        status,
        int(found.get("ExitCode", 0)) if exited else None,
        int(attrs.get("RestartCount") or 0),
        str(attrs.get("Image", "")),
        str((attrs.get("Config") or {}).get("Hostname", "")),
        str(attrs.get("Name", "")).lstrip("/"),
        str(((attrs.get("Config") or {}).get("Labels") or {}).get(SERVICE_LABEL, "")),
    )


def stamp_ns(stamp: str) -> int:
    """Nanoseconds since the epoch of the engine's RFC 3339 timestamp (`2024-05-01T12:34:56.123456789Z`)."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(whole + "+00:00").timestamp()
    return int(seconds) * 1_000_000_000 + int((fraction + "000000000")[:9])


def stamped(log: bytes) -> list[tuple[int, str]]:
    """`(ns, text)` of each line of a `logs(timestamps=True)` answer, in its order."""
    lines = []
    for raw in log.decode(errors="replace").splitlines():
        stamp, _, text = raw.partition(" ")
        with contextlib.suppress(ValueError):
            lines.append((stamp_ns(stamp), text))
    return lines


@dataclass
class Cursor:
    """Where the lines read so far end: the newest timestamp and how many lines carried it."""

    ns: int = 0
    at_ns: int = 0

    def begin(self, earlier_end: str) -> None:
        """Before the first line: skip what an earlier run of the container wrote (it was started again).

        `earlier_end`: the FinishedAt of a running container, the end of its earlier run ("0001-…" when it
        never ran before). Not StartedAt: the engine sets it once the process runs, after the process's
        first lines, and for a process that ends at once even after its FinishedAt.
        """
        if self.ns == 0:
            with contextlib.suppress(ValueError):
                self.ns = max(stamp_ns(earlier_end), 0)

    def since(self) -> float | None:
        """The `since` to ask for (a microsecond early: a float holds no more); None: from the start."""
        return (self.ns // 1000) / 1e6 - 1e-6 if self.ns else None

    def new(self, lines: Iterable[tuple[int, str]]) -> list[str]:
        """The texts of `lines` not seen before, the cursor moved past them."""
        fresh, old_ns, old_count, repeated = [], self.ns, self.at_ns, 0
        for ns, text in lines:
            if ns < old_ns or (ns == old_ns and repeated < old_count):
                repeated += ns == old_ns
                continue
            self.ns, self.at_ns = ns, (self.at_ns + 1 if ns == self.ns else 1)
            fresh.append(text)
        return fresh


@dataclass(frozen=True)
class Look:
    """What one look at a container found."""

    at: float  # the watcher's monotonic clock
    state: State
    lines: tuple[str, ...]  # stderr lines new since the look before
    engine_cpu: float | None  # seconds of CPU its cgroup has used, by the newest stats sample (None: none yet)


@dataclass
class Watch:
    """Looks at one container: its state, its new stderr lines, its cgroup's CPU (see the module docstring)."""

    engine: docker.DockerClient
    container: str  # its id
    clock: Callable[[], float] = time.monotonic
    news: threading.Event = field(default_factory=threading.Event)  # set when a stderr line came
    _cursor: Cursor = field(default_factory=Cursor)
    _cpu: float | None = None
    _closed: threading.Event = field(default_factory=threading.Event)
    _follow: Any = None  # the stderr stream followed, once open

    def start(self) -> Watch:
        """Start reading the stats stream and following stderr; returns the watch."""
        threading.Thread(target=self._read_stats, daemon=True, name=f"stats-{self.container[:12]}").start()
        if cancellable(str(self.engine.api.base_url)):
            threading.Thread(target=self._follow_lines, daemon=True, name=f"lines-{self.container[:12]}").start()
        return self

    def close(self) -> None:
        """Stop following stderr, and reading the stats stream (its thread ends at the next sample, at most a
        second later)."""
        self._closed.set()
        if self._follow is not None:
            with contextlib.suppress(docker.errors.DockerException, OSError):
                self._follow.close()

    def __enter__(self) -> Watch:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def look(self) -> Look:
        try:
            attrs = self.engine.api.inspect_container(self.container)
            run = attrs.get("State") or {}
            self._cursor.begin(run.get("FinishedAt", "") if run.get("Running") else "")
            since = self._cursor.since()
            log = self.engine.api.logs(self.container, stdout=False, stderr=True, timestamps=True, since=since)
        except docker.errors.NotFound:
            return Look(self.clock(), state(None), (), self._cpu)
        return Look(self.clock(), state(attrs), tuple(self._cursor.new(stamped(log))), self._cpu)

    def _follow_lines(self) -> None:
        with contextlib.suppress(docker.errors.DockerException, OSError, ValueError):
            since = int(time.time())  # whole seconds: a line of the second before only wakes the judge early
            self._follow = self.engine.api.logs(
                self.container, stdout=False, stderr=True, stream=True, follow=True, since=since
            )
            if self._closed.is_set():  # closed while the stream was being opened
                self._follow.close()
                return
            for _ in self._follow:
                self.news.set()
                if self._closed.is_set():
                    return

    def _read_stats(self) -> None:
        with contextlib.suppress(docker.errors.DockerException, OSError, ValueError):
            for sample in self.engine.api.stats(self.container, decode=True, stream=True):
                if self._closed.is_set():
                    return
                self._cpu = cpu_seconds(sample) if cpu_seconds(sample) is not None else self._cpu


def cancellable(base_url: str) -> bool:
    """Whether a stream from the engine at the SDK's `base_url` can be cut short (`CancellableStream.close`):
    docker-py cannot over SSH (its base URL `http+docker://ssh`)."""
    return not base_url.startswith("http+docker://ssh")


def cpu_seconds(sample: Mapping[str, Any]) -> float | None:
    """The CPU seconds in one stats sample (None when it has none: the container was not running)."""
    total = ((sample.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
    return total / 1e9 if total else None


@dataclass(frozen=True)
class Evidence:
    """What a failed container leaves: how it ended and the last lines of each of its streams.

    The streams are kept apart: the engine stamps a line when its copier reads the pipe, so stamps
    cannot put a stderr line between stdout lines. The bot writes its log, its stage lines and a
    traceback to stderr (`lines`); `stdout` is empty unless something printed.
    """

    container: str  # its id
    name: str
    service: str
    status: str
    exit_code: int | None
    restarts: int
    lines: tuple[str, ...]  # stderr
    stdout: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "lines": list(self.lines), "stdout": list(self.stdout)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        """The evidence of a decoded JSON object (tolerant of a missing field)."""
        lines: Sequence[str] = data.get("lines") or ()
        stdout: Sequence[str] = data.get("stdout") or ()
        return cls(
            str(data.get("container", "")),
            str(data.get("name", "")),
            str(data.get("service", "")),
            str(data.get("status", "")),
            data.get("exit_code"),
            int(data.get("restarts") or 0),
            tuple(str(line) for line in lines),
            tuple(str(line) for line in stdout),
        )

    @property
    def last_line(self) -> str:
        """The newest line that is no stage line: a pulse said after the error must not hide it."""
        plain = ([line for line in lines if stages.MARKER not in line] for lines in (self.lines, self.stdout))
        return next((lines[-1] for lines in plain if lines), "no output")


def evidence(engine: docker.DockerClient, container: str, lines: int = EVIDENCE_LINES) -> Evidence:
    """The last `lines` lines of each stream of a container (among its last `EVIDENCE_TAIL`) and its state now."""
    try:
        attrs = engine.api.inspect_container(container)
        err = engine.api.logs(container, stdout=False, stderr=True, timestamps=True, tail=EVIDENCE_TAIL)
        out = engine.api.logs(container, stdout=True, stderr=False, timestamps=True, tail=EVIDENCE_TAIL)
    except docker.errors.NotFound:
        return Evidence(container, "", "", GONE, None, 0, ())
    found = state(attrs)
    code = found.exit_code if found.exit_code is not None or not found.restarts else last_exit(engine, container, attrs)
    texts = (tuple(text for _, text in stamped(log)[-lines:]) for log in (err, out))
    return Evidence(container, found.name, found.service, found.status, code, found.restarts, *texts)


def last_exit(engine: docker.DockerClient, container: str, attrs: Mapping[str, Any]) -> int | None:
    """The exit code of the container's last exit, by the engine's `die` events since it was created: the inspect
    data of a container the engine restarted has none once it runs again (None: no event kept of one)."""
    since = stamp_ns(str(attrs.get("Created", ""))) // 1_000_000_000
    now = time.time_ns()
    until = f"{now // 1_000_000_000}.{now % 1_000_000_000:09d}"  # a past `until`: the stream ends at once
    died = engine.api.events(since=since, until=until, filters={"container": container, "event": "die"}, decode=True)
    codes = [str(((event.get("Actor") or {}).get("Attributes") or {}).get("exitCode", "")) for event in died]
    found = [int(code) for code in codes if code.isdigit()]
    return found[-1] if found else None
