"""The standby handover: a new release's bot and worker start beside the running ones, stand by on the role
locks (`trading.stages`: `standing_by`), and take over when the old ones stop.

    start     `compose up --no-recreate --scale bot=2 --scale worker=2` (`compose.standby`): the new
              containers are those that were not there before (`new_ones`), exactly one per service
    stop      SIGTERM the old worker and the old bot at once and wait until both have exited: each
              saves and lets go of its lock, and the new ones take them (the lock decides, not timing)
    keep      the old containers stay, stopped, until the new release is verified: a way back that
              needs neither Compose nor a checkout (`start_all` by id)
    finish    the old containers removed by id, the new ones renamed `<project>-<service>-1` (`rename`)
    discard   a standby that failed: its containers removed by id; it never took over

Rules: every container is named by its id; a stopped old container never meets a `compose up` (Compose
would start it again); the bot's downtime is the tick gap, from the old bot's `stopped` line
(`last_tick_ts`) to the new bot's `running` line (`first_tick_ts`) (`tick_gap`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors

from deploy.config import Settings
from deploy.errors import StandbyFailed
from deploy.steps import liveness
from trading import stages


def new_ones(before: Mapping[str, Sequence[str]], after: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each service's one container in `after` that is not in `before`; `StandbyFailed` unless there is one each."""
    found = {service: [c for c in ids if c not in before.get(service, ())] for service, ids in after.items()}
    for service, ids in found.items():
        if len(ids) != 1:
            raise StandbyFailed(
                f"the standby made {len(ids)} new {service} containers, not one; nothing was stopped",
                "`docker ps -a` shows the project's containers; remove the ones no deploy made and deploy again",
                service=service,
                containers=ids,
            )
    return {service: ids[0] for service, ids in found.items()}


def name(settings: Settings, service: str) -> str:
    """The stable name of a service's container: what Compose names the first one."""
    return f"{settings.project}-{service}-1"


def _each(engine: docker.DockerClient, ids: Iterable[str], act: str, **kwargs: object) -> None:
    """`container.<act>(**kwargs)` on every container of `ids` at once; one removed meanwhile is skipped."""

    def one(container_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            getattr(engine.containers.get(container_id), act)(**kwargs)

    wanted = list(ids)
    with ThreadPoolExecutor(max_workers=max(len(wanted), 1)) as pool:
        list(pool.map(one, wanted))


def stop_all(engine: docker.DockerClient, ids: Iterable[str], timeout: int | None = None) -> None:
    """SIGTERM every container at once and return when all have exited (each gets its own stop grace period,
    or `timeout` seconds)."""
    _each(engine, ids, "stop", **({} if timeout is None else {"timeout": timeout}))


def remove_all(engine: docker.DockerClient, ids: Iterable[str], grace: int) -> None:
    """Stop every container (`grace` seconds each, at once) and remove it."""
    ids = list(ids)
    stop_all(engine, ids, grace)
    _each(engine, ids, "remove", force=True)


def start_all(engine: docker.DockerClient, ids: Iterable[str]) -> None:
    """Start stopped containers again by id: their config, image and volumes as they were."""
    _each(engine, ids, "start")


def rename(engine: docker.DockerClient, settings: Settings, ids: Mapping[str, str]) -> None:
    """Give each service's container its stable name (`name`), once the container that had it is gone."""
    for service, container_id in ids.items():
        container = engine.containers.get(container_id)
        if container.name != name(settings, service):
            container.rename(name(settings, service))


def tick_gap(engine: docker.DockerClient, old_bot: str, new_bot: str) -> float | None:
    """Seconds from the old bot's last tick to the new bot's first, by their stage lines; None when unknown."""
    last = _field(engine, old_bot, stages.STOPPED, "last_tick_ts")
    first = _field(engine, new_bot, stages.RUNNING, "first_tick_ts")
    return round(first - last, 3) if first is not None and last is not None else None


def _field(engine: docker.DockerClient, container: str, stage: str, key: str) -> float | None:
    """`key` of the newest `stage` line a container wrote on stderr."""
    try:
        log = engine.api.logs(container, stdout=False, stderr=True)
    except docker.errors.NotFound:
        return None
    found = [doc.get(key) for doc in liveness.parse_lines(log) if doc.get("stage") == stage]
    value = found[-1] if found else None
    return float(value) if isinstance(value, int | float) else None
