"""Waiting for a release's containers to start, each by id, judged by its progress (`deploy.steps.liveness`).

A `Target` is one container and the limits it is judged by: the stage it must reach, how long it may
show no progress (`TRADEBOT_START_STALL`), how long a start that progresses may take
(`TRADEBOT_START_CAP`), the code it must run. `wait` looks at every target (`deploy.engine.observe.Watch`:
an inspect and the stderr lines new since the look before, the cgroup's CPU from the stats stream) each
`CYCLE`, and sooner when one of them writes a line, though never twice within `SOONEST` (a container
that floods its log is not looked at in a busy loop). It folds each look into that target's samples and
judges them all: the first failure raises `StartFailed`, naming what was judged and the setting that
tunes it (none for a crash); once every target is ok, it returns the judgements.

A release that ran before (a rollback, a restore, the undo of a killed attempt) is judged with
3 times the stall and no cap (`Limits.for_rollback`): a slow start on a busy host is never given up
while it progresses.

An image older than the stage protocol writes no stage line: its goal is met when its own health
command passes (one exec, at most every `PROBE_EVERY` seconds once it has run that long without a
stage line), and its progress is its cgroup's CPU. An image labelled with the protocol
(`liveness.protocol_of`) is judged by its stage lines alone: the engine's health-check execs put CPU into
the same cgroup every few seconds, so a process that never says `started` would look busy forever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine.observe import Look, Watch
from deploy.errors import StartFailed
from deploy.ids import short
from deploy.steps import health, liveness, roles
from deploy.steps.liveness import Judgement, Limits, Sample
from trading import stages

CYCLE = 0.1
SOONEST = 0.02
PROBE_EVERY = 1.0


@dataclass(frozen=True)
class Target:
    container: str  # its id
    service: str
    limits: Limits
    protocol: bool = False  # its image says stages (`liveness.protocol_of`): no cgroup CPU, no probe


def limits(settings: Settings, goal: str, service: str, release: str | None, ran_before: bool) -> Limits:
    """The limits of a start of `service` to `goal`, by the settings; a release that ran before: `for_rollback`."""
    found = liveness.at_start(settings, goal, release or None, service)
    return found.for_rollback() if ran_before else found


@dataclass
class Track:
    """What the looks at one container showed so far, as the judge's samples."""

    protocol: bool = False  # judged by its stage lines alone (`Target.protocol`)
    samples: list[Sample] = field(default_factory=list)
    doc: dict[str, Any] = field(default_factory=dict)  # the newest stage line
    last_line: str = ""  # the newest line that is no stage line
    running_since: float | None = None
    probed_at: float | None = None
    healthy: bool | None = None

    def add(self, look: Look) -> None:
        docs = liveness.parse_lines("\n".join(look.lines).encode())
        self.doc = docs[-1] if docs else self.doc
        plain = [line for line in look.lines if stages.MARKER not in line]
        self.last_line = plain[-1] if plain else self.last_line
        if look.state.status == "running" and self.running_since is None:
            self.running_since = look.at
        doc, state = self.doc, look.state
        self.samples.append(
            Sample(
                at=look.at,
                status=state.status,
                exit_code=state.exit_code,
                restarts=state.restarts,
                stage=doc.get("stage"),
                release=doc.get("release"),
                cpu=doc.get("cpu"),
                run=doc.get("run"),
                engine_cpu=None if self.protocol else look.engine_cpu,
                healthy=self.healthy,
                last_line=self.last_line,
            )
        )

    def wants_probe(self, now: float) -> bool:
        """An image without the protocol: no stage line after `PROBE_EVERY` of running, not probed as recently."""
        if self.protocol or self.doc or self.running_since is None or now - self.running_since < PROBE_EVERY:
            return False
        return self.probed_at is None or now - self.probed_at >= PROBE_EVERY


def wait(
    engine: docker.DockerClient,
    targets: Sequence[Target],
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Judgement]:
    """Return when every target reached its goal (its judgement by container id); `StartFailed` names the first
    that failed (see the module docstring)."""
    since, tracks, news = clock(), {target.container: Track(target.protocol) for target in targets}, threading.Event()
    watches = {target.container: Watch(engine, target.container, clock, news).start() for target in targets}
    try:
        with ThreadPoolExecutor(max_workers=max(len(targets), 1)) as pool:
            while True:
                news.clear()  # a line written from now on ends the wait below
                looked = time.monotonic()
                list(pool.map(lambda t: _look(engine, watches[t.container], tracks[t.container]), targets))
                judged = {t.container: liveness.judge(tracks[t.container].samples, t.limits, since) for t in targets}
                for target in targets:
                    if judged[target.container].verdict == liveness.FAILED:
                        raise start_failed(target, judged[target.container], clock() - since)
                if all(j.verdict == liveness.OK for j in judged.values()):
                    return judged
                news.wait(CYCLE)
                time.sleep(max(0.0, looked + SOONEST - time.monotonic()))
    finally:
        for watch in watches.values():
            watch.close()


def _look(engine: docker.DockerClient, watch: Watch, track: Track) -> None:
    look = watch.look()
    if track.wants_probe(look.at):
        track.probed_at, track.healthy = look.at, _probe(engine, watch.container)
    track.add(look)


def _probe(engine: docker.DockerClient, container: str) -> bool:
    try:
        return health.probe(engine.containers.get(container))
    except docker.errors.NotFound:
        return False


def start_failed(target: Target, judged: Judgement, seconds: float) -> StartFailed:
    """The failure of one target: what was judged, and the setting that tunes it (or, for a crash, the fix)."""
    if judged.setting is not None:
        value = target.limits.stall if judged.setting == liveness.STALL_SETTING else target.limits.cap
        hint = (
            f"if it is only slow (a loaded host), raise {judged.setting} (now {value:g} s); otherwise the last "
            "lines above say where it stopped: fix the release"
        )
    else:
        hint = "the last lines above say why it ended: fix the release"
    return StartFailed(
        f"{target.service} {short(target.container)} did not start: {judged.why}",
        hint,
        container=target.container,
        service=target.service,
        judged=judged.why,
        setting=judged.setting,
        seconds=round(seconds, 1),
    )


def of_release(
    settings: Settings, engine: docker.DockerClient, image_id: str, release: str | None, ran_before: bool
) -> list[Target]:
    """A target per service: its one container of `image_id`, to `running` (`roles.one_each`)."""
    ids = roles.one_each(settings, engine, image_id)
    protocol = liveness.protocol_of(engine.images.get(image_id).labels) >= stages.PROTOCOL
    return [
        Target(container, service, limits(settings, stages.RUNNING, service, release, ran_before), protocol)
        for service, container in ids.items()
    ]


def wait_release(
    settings: Settings, engine: docker.DockerClient, image_id: str, release: str | None = None, ran_before: bool = False
) -> dict[str, Judgement]:
    """Wait until the one bot and worker of `image_id` run (`of_release`, `wait`)."""
    return wait(engine, of_release(settings, engine, image_id, release, ran_before))
