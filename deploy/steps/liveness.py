"""Is a starting container getting somewhere? A judgement by progress, not by a clock alone (pure, no I/O).

The inputs are `Sample`s a watcher takes of one container, oldest first: what the engine says
(status, exit code, restarts), the newest stage line the process wrote (`trading.stages`: its stage,
release, main-thread CPU seconds and run state), and the cgroup's CPU seconds as a fallback. The rules,
in order (`judge`):

1. exited, dead, restarting, gone, or restarted → failed: a crash is never slowness, no setting named;
2. a stage line names another release than the one meant → failed;
3. the stage reached the goal (by rank: `running` meets `standing_by`; an image without the
   protocol meets any goal when its own health command passed) → ok;
4. progress is a sample with a new stage, the main thread's CPU up `cpu_step` since the last
   progress, the main thread waiting on disk (`D`: synced writes on a loaded host are not a hang),
   or — before the first stage line, or without the protocol — the cgroup's CPU up `cpu_step`.
   The clock starts at the later of `since` and the first sample that shows the container
   running: engine churn before it runs is not held against it;
5. no progress for `stall` seconds → failed, naming the stage, the CPU, the disk wait and the setting;
6. a `cap`, and `cap` seconds since `since` → failed although it progresses, naming the setting;
7. otherwise waiting.

On a host loaded 30 times its cores, each of 60 runnable tasks still gets about 33 ms of CPU a second:
some 200 ms in a 6 s window, ten times the 20 ms step. A process hung in sleep, wait or a lock gets 0.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from deploy.config import Settings
from trading import stages

OK, WAITING, FAILED = "ok", "waiting", "failed"
PROTOCOL_LABEL = "io.tradebot.protocol"  # the image's stage protocol (Dockerfile), absent before it
STALL_SETTING, CAP_SETTING = "TRADEBOT_START_STALL", "TRADEBOT_START_CAP"
GONE = ("exited", "dead", "restarting", "removing", "gone")
ROLLBACK_STALL = 3  # a release that ran before gets this many stalls and no cap


@dataclass(frozen=True)
class Sample:
    at: float  # the watcher's monotonic clock (never compared with a container's clock)
    status: str  # the engine's State.Status, or "gone"
    exit_code: int | None = None
    restarts: int = 0
    stage: str | None = None  # of the newest stage line
    release: str | None = None
    cpu: float | None = None  # the main thread's CPU seconds, from the newest pulse
    run: str | None = None  # the main thread's run state: R, S or D
    engine_cpu: float | None = None  # the cgroup's CPU seconds (engine stats)
    healthy: bool | None = None  # an image without the protocol: its own health command passed
    last_line: str = ""  # the newest log line, for a failure's message


@dataclass(frozen=True)
class Limits:
    goal: str  # a stage of `trading.stages.ORDER`
    stall: float  # seconds without progress after which the start failed
    cap: float | None  # seconds a progressing start may take; None: no cap (a rollback)
    release: str | None = None  # the code digest the container must run
    name: str = "the container"  # how messages call it: "bot", "worker 3f2a…"
    cpu_step: float = 0.02

    def for_rollback(self) -> Limits:
        """The limits of a release that ran before (a rollback, restore or recovery): 3 times the stall, no cap."""
        return replace(self, stall=self.stall * ROLLBACK_STALL, cap=None)


def at_start(settings: Settings, goal: str, release: str | None, name: str) -> Limits:
    """The limits of a deploy's start, from the settings (`Limits.for_rollback` for a release that ran before)."""
    return Limits(goal, settings.start_stall, settings.start_cap, release, name)


@dataclass(frozen=True)
class Judgement:
    verdict: str  # OK, WAITING or FAILED
    why: str = ""
    setting: str | None = None  # the setting that tunes what was judged (None for a crash)


def protocol_of(labels: Mapping[str, str] | None) -> int:
    """The stage protocol an image's labels say its bot and worker speak; 0 for an image from before it."""
    value = (labels or {}).get(PROTOCOL_LABEL, "")
    return int(value) if value.isdigit() else 0


def can_hand_over(live: Mapping[str, str] | None, target: Mapping[str, str] | None) -> bool:
    """Whether a standby of `target` can take over from `live` (both by their image labels): both speak the
    protocol (role locks, standby, fence); else the switch stops the old release first."""
    return min(protocol_of(live), protocol_of(target)) >= stages.PROTOCOL


def parse_lines(log: bytes) -> list[dict[str, Any]]:
    """The stage objects in a log, in order; every other line (and a torn or foreign one) is ignored."""
    found = []
    for text in log.decode(errors="replace").splitlines():
        at = text.find(stages.MARKER)
        if at < 0:
            continue
        try:
            doc = json.loads(text[at + len(stages.MARKER) :])
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("stage"), str):
            found.append(doc)
    return found


def judge(samples: Sequence[Sample], limits: Limits, since: float) -> Judgement:
    """The verdict on a start from its samples, oldest first (the rules in the module docstring)."""
    if not samples:
        return Judgement(WAITING, f"{limits.name}: nothing observed yet")
    now = samples[-1]
    crashed = _crashed(now, limits)
    if crashed is not None:
        return crashed
    if limits.release and now.release and now.release != limits.release:
        return Judgement(FAILED, f"{limits.name} runs code {now.release[:12]}, expected {limits.release[:12]}")
    if _met(now, limits.goal):
        return Judgement(OK, f"{limits.name} reached {now.stage or 'health'}")
    clock = _clock_start(samples, since)
    if clock is None:
        return _capped(now, limits, since) or Judgement(WAITING, f"{limits.name} is not running yet ({now.status})")
    seen = _last_progress(samples, clock, limits.cpu_step)
    if now.at - seen.last.at >= limits.stall:
        return Judgement(FAILED, _stalled(samples, seen, clock, limits), STALL_SETTING)
    return _capped(now, limits, since) or Judgement(WAITING, f"{limits.name} progresses (stage {now.stage})")


def _crashed(now: Sample, limits: Limits) -> Judgement | None:
    if now.status not in GONE and now.restarts == 0:
        return None
    code = "" if now.exit_code is None else f" with code {now.exit_code}"
    what = "is gone" if now.status == "gone" else f"exited{code}"  # running again: the engine restarted it
    restarted = f" (restarted {now.restarts} times)" if now.restarts else ""
    last = f"; last line: {now.last_line}" if now.last_line else ""
    return Judgement(FAILED, f"{limits.name} {what} at stage {now.stage or 'none'}{restarted}{last}")


def _met(now: Sample, goal: str) -> bool:
    if now.stage is None:
        return bool(now.healthy)
    terminal = (stages.STOPPING, stages.STOPPED)
    return stages.rank(now.stage) >= stages.rank(goal) and (now.stage not in terminal or goal in terminal)


def _clock_start(samples: Sequence[Sample], since: float) -> float | None:
    running = next((s.at for s in samples if s.status == "running"), None)
    return None if running is None else max(since, running)


@dataclass
class _Progress:
    last: Sample  # the newest sample that showed progress
    cpu: float | None  # the main thread's CPU then, or the first figure after it (a pulse comes after a stage)
    engine_cpu: float | None  # the same of the cgroup's

    @classmethod
    def at(cls, sample: Sample) -> _Progress:
        return cls(sample, sample.cpu, sample.engine_cpu)


def _last_progress(samples: Sequence[Sample], clock: float, step: float) -> _Progress:
    """The newest progress since `clock`; the first sample at or after it when none did."""
    counted = [s for s in samples if s.at >= clock] or [samples[-1]]
    seen = _Progress.at(counted[0])
    for previous, sample in itertools.pairwise(counted):
        if _progressed(seen, previous, sample, step):
            seen = _Progress.at(sample)
            continue
        seen.cpu = sample.cpu if seen.cpu is None else seen.cpu
        seen.engine_cpu = sample.engine_cpu if seen.engine_cpu is None else seen.engine_cpu
    return seen


def _progressed(seen: _Progress, previous: Sample, sample: Sample, step: float) -> bool:
    if sample.stage != previous.stage or sample.run == "D":
        return True
    if sample.cpu is not None and seen.cpu is not None and sample.cpu - seen.cpu >= step:
        return True
    if sample.stage is not None and sample.cpu is not None:
        return False  # the process reports its own CPU: the cgroup's (health checks included) is not asked
    if sample.engine_cpu is None or seen.engine_cpu is None:
        return False
    return sample.engine_cpu - seen.engine_cpu >= step


def _stalled(samples: Sequence[Sample], seen: _Progress, clock: float, limits: Limits) -> str:
    now, last = samples[-1], seen.last
    changed = max((s.at for p, s in itertools.pairwise(samples) if s.stage != p.stage), default=clock)
    cpu = f"main thread +{(now.cpu or 0.0) - (seen.cpu or 0.0):.2f} s CPU" if now.cpu is not None else "no CPU figure"
    return (
        f"{limits.name} made no progress for {now.at - last.at:.1f} s: stage {now.stage or 'none'} since "
        f"{now.at - max(changed, clock):.1f} s, {cpu}, not waiting on disk (judged from its stage lines and CPU; "
        f"{STALL_SETTING}={limits.stall:g} tunes it)"
    )


def _capped(now: Sample, limits: Limits, since: float) -> Judgement | None:
    if limits.cap is None or now.at - since < limits.cap:
        return None
    cpu = f", {now.cpu:.1f} s CPU" if now.cpu is not None else ""
    why = (
        f"{limits.name} is not {limits.goal} after {now.at - since:.0f} s although it progresses "
        f"(stage {now.stage or 'none'}{cpu}) ({CAP_SETTING}={limits.cap:g} tunes it)"
    )
    return Judgement(FAILED, why, CAP_SETTING)
