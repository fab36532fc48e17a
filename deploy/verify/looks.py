"""Verify's look at each service container, read once and judged: running, inspect data, processes, code owners.

The reads (`Reads`) go on in parallel with the rest of verify and are shared with the points: the code
archive (the container point and the code's owners), verify's side container (the kernel's facts about the
processes, `deploy.verify.points.ask_inside`) and the heartbeat (the imported point and what the process
says it imported), both through the engine, neither through a process in the container.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from deploy.policy.check import Check
from deploy.steps import casting, health
from deploy.verify import checks, points


@dataclass(frozen=True)
class Reads:
    """What verify reads of one container, each once."""

    code: Future[bytes]
    inside: Future[dict[str, Any]]
    beat: Future[dict[str, Any]]


def read(
    pool: ThreadPoolExecutor, engine: docker.DockerClient, container: Container, image_id: str, project: str
) -> Reads:
    """Start the reads of `container` (`image_id`: the live image, whose python3 runs the side container)."""
    return Reads(
        pool.submit(points.code_archive, container),
        pool.submit(points.ask_inside, engine, container, image_id, project),
        pool.submit(points.read_heartbeat, container),
    )


def judged(
    service: str,
    container: Container | None,
    roles: list[casting.Role],
    live_image_id: str,
    reads: Reads | None,
    healthy: frozenset[str],
) -> list[Check]:
    """The checks of the service's judged container (`reads`: its reads; `roles`: the service's containers)."""
    if container is None or reads is None:
        return [Check(service, "running", False, "no running container of the live release"), one_check(service, roles)]
    one = one_check(service, roles)
    alive = checks.running_check(service, container.attrs)
    if not alive.ok:  # restarting or paused: its processes say nothing
        return [alive, one, *checks.inspect_checks(service, container.attrs, live_image_id)]
    try:  # the processes first: verify's own health probe (an exec) is never among those it judges
        facts, failed = reads.inside.result(), None
    except points.InsideFailed as exc:
        facts, failed = {}, exc
    probed, said = _probe(container, reads, healthy)
    found = checks.inspect_checks(service, container.attrs, live_image_id, probed, said)
    if failed is not None:
        now = still_running(service, container)
        return [now, one, *found] if not now.ok else [alive, one, *found, *checks.inside_failed(service, str(failed))]
    beat = reads.beat.result().get("heartbeat")
    return [alive, one, *found, *checks.inside_checks(service, container.attrs, facts, beat, owners(reads.code))]


def one_check(service: str, roles: list[casting.Role]) -> Check:
    """Only the judged container runs, or beside it a standby of the attempt in progress; each other one named."""
    others = "; ".join(r.why for r in roles if r.role != casting.LIVE and r.seen.running)
    return Check(service, "one running container", not casting.beside(roles), others)


def _probe(container: Container, reads: Reads, healthy: frozenset[str]) -> tuple[bool, str]:
    """While the engine says `starting`: whether its health check passes (and what it said when not).

    A start judged moments ago (`healthy`) counts without a probe only while the container's own heartbeat
    is there: a start judged by its stage lines says nothing of a state directory it cannot write (a full disk).
    """
    if checks.health_status(container.attrs) != "starting":
        return False, ""
    if container.id in healthy and _own_beat(container, reads):
        return True, ""
    return health.probed(container)


def _own_beat(container: Container, reads: Reads) -> bool:
    beat = reads.beat.result().get("heartbeat")
    return isinstance(beat, dict) and beat.get("hostname") == container.attrs["Config"]["Hostname"]


def still_running(service: str, container: Container) -> Check:
    """The `running` check of a container as it is now (it may have stopped while verify looked inside)."""
    try:
        container.reload()
    except docker.errors.NotFound:
        return Check(service, "running", False, "its container was removed while verify looked inside")
    return checks.running_check(service, container.attrs)


def owners(code: Future[bytes]) -> list[tuple[str, int, int, int]]:
    try:
        return points.tar_owners(code.result())
    except docker.errors.NotFound:
        return []  # the container point names the missing code path


def result(future: Future[Any] | None) -> Callable[[], Any] | None:
    return future.result if future else None
