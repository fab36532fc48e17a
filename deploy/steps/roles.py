"""Which containers play the bot and the worker: chosen by id, never the first one a listing happens to return.

A procedure knows the ids of the containers it started and judges, verifies and records those. A
look from outside an attempt (status, a standalone verify) reads what `deploy.steps.casting` decides
on: each container's stage (the tail of its stderr, `stage_of`), and whether another process has an
attempt in progress (the deploy lock's holder and the journal, `in_progress`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors
from docker.models.containers import Container

from deploy.config import SERVICES, Settings
from deploy.engine import compose
from deploy.engine.helpers import pid_alive
from deploy.errors import StartFailed
from deploy.ids import short
from deploy.records import journal, ledger
from deploy.records.view import EngineRecords
from deploy.steps import casting, handover, liveness, lock
from deploy.steps.casting import Arriving, Role, Seen


def of_project(settings: Settings, engine: docker.DockerClient) -> dict[str, list[Container]]:
    """Each service's containers (any state), oldest first."""
    found = engine.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{compose.PROJECT_LABEL}={settings.project}"}
    )
    found.sort(key=lambda container: str(container.attrs.get("Created", "")))
    return {service: [c for c in found if c.labels.get(compose.SERVICE_LABEL) == service] for service in SERVICES}


def of_image(settings: Settings, engine: docker.DockerClient, image_id: str) -> dict[str, list[str]]:
    """Each service's containers that run `image_id`, by id, oldest first."""
    return {
        service: [c.id or "" for c in containers if c.attrs.get("Image") == image_id]
        for service, containers in of_project(settings, engine).items()
    }


def one_each(settings: Settings, engine: docker.DockerClient, image_id: str) -> dict[str, str]:
    """The one container of each service that runs `image_id` (its id); `StartFailed` when there is not one each."""
    found = of_image(settings, engine, image_id)
    for service, ids in found.items():
        if len(ids) != 1:
            raise StartFailed(
                f"{len(ids)} {service} containers run image {short(image_id)}, not one",
                "`docker ps -a` shows them; remove the ones no deploy made and deploy again",
                service=service,
                containers=ids,
            )
    return {service: ids[0] for service, ids in found.items()}


UP = ("running", "restarting", "paused")  # what the engine lists as running (`docker ps`)
STAGE_TAIL = 200  # lines of stderr read for a container's stage; a standby's newest lines are its stage lines


def stage_of(engine: docker.DockerClient, container_id: str) -> str | None:
    """The stage of the newest stage line in the tail of the container's stderr (None: none there, or gone)."""
    try:
        log = engine.api.logs(container_id, stdout=False, stderr=True, tail=STAGE_TAIL)
    except docker.errors.NotFound:
        return None
    found = [str(doc.get("stage")) for doc in liveness.parse_lines(log) if doc.get("stage")]
    return found[-1] if found else None


def seen(engine: docker.DockerClient, containers: Iterable[Container], with_stages: bool = True) -> list[Seen]:
    """The containers as `casting` judges them, their stages read at once (`with_stages`)."""
    listed = list(containers)
    with ThreadPoolExecutor(max_workers=max(len(listed), 1)) as pool:
        said = list(pool.map(lambda c: stage_of(engine, c.id or "") if with_stages else None, listed))
    return [_seen(c, stage) for c, stage in zip(listed, said, strict=True)]


def _seen(container: Container, stage: str | None) -> Seen:
    attrs = container.attrs
    running = (attrs.get("State") or {}).get("Status") in UP
    service = container.labels.get(compose.SERVICE_LABEL, "")
    return Seen(
        container.id or "",
        container.name or "",
        service,
        str(attrs.get("Image", "")),
        running,
        str(attrs.get("Created", "")),
        stage,
    )


def stable(settings: Settings) -> dict[str, str]:
    """Each service's stable container name (`deploy.steps.handover.name`)."""
    return {service: handover.name(settings, service) for service in SERVICES}


def arriving_of(
    holder: lock.Holder | None, started: Iterable[ledger.Entry], entries: Iterable[ledger.Entry]
) -> Arriving | None:
    """The attempt another live process has in progress (it holds the deploy lock), by its journal file."""
    if holder is None or not _another(holder):
        return None
    attempts = [e for e in journal.unfinished(started, entries) if e.image_id]
    if not attempts:
        return None
    last = attempts[-1]
    return Arriving(last.image_id, f"the {last.event} of {short(last.commit)} in progress ({holder.describe()})")


def _another(holder: lock.Holder) -> bool:
    here = socket.gethostname()
    return not lock.dead_here(holder, here, pid_alive) and (holder.host, holder.pid) != (here, os.getpid())


def last_success(entries: Iterable[ledger.Entry]) -> str | None:
    """The image of the ledger's newest successful release."""
    found = ledger.last_success_before([e for e in entries if e.image_id], "")
    return found.image_id if found else None


def cast(
    settings: Settings,
    engine: docker.DockerClient,
    tagged: str,
    running: Sequence[Container],
    chosen: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, list[Role]]]:
    """The live release's image and each service's running containers in their roles (`casting`), for verify.

    `tagged`: the `:live` image; `chosen`: the ids a procedure judges (then no attempt of another is asked for).
    """
    arriving, last = in_progress(settings, engine) if chosen is None else (None, None)
    crowded = any(len([c for c in running if c.labels.get(compose.SERVICE_LABEL) == s]) > 1 for s in SERVICES)
    looked = seen(engine, running, with_stages=crowded or arriving is not None)
    live = casting.live_image(tagged, arriving, last, looked)
    return live, casting.cast(looked, live, stable(settings), arriving, chosen)


def in_progress(settings: Settings, engine: docker.DockerClient) -> tuple[Arriving | None, str | None]:
    """Another process's attempt in progress, and the image of the ledger's last success (read only then)."""
    holder = lock.current(settings, engine)
    if holder is None or not _another(holder):
        return None, None
    records = EngineRecords(settings, engine)  # the ledger and the journal through one helper
    return arriving_of(holder, records.started(), records.entries()), last_success(records.entries())
