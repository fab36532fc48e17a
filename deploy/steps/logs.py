"""`tradebot logs`: what bot and worker wrote, read from the engine (the containers' logs through the Docker SDK).

Each line is prefixed with its service and the engine's time of it. Without `follow` the services'
lines are merged in time order; with it they are shown as they come until the containers stop (or
the operator presses Ctrl-C).
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

import docker
from docker.models.containers import Container

from deploy.config import SERVICES, Settings
from deploy.engine.compose import PROJECT_LABEL, SERVICE_LABEL
from deploy.errors import ConfigError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
Say = Callable[[str], None]


def since_of(text: str, now: datetime) -> datetime | None:
    """`90s`, `10m`, `2h` or `1d` before `now`, or an ISO time; None for "" (pure)."""
    if not text:
        return None
    relative = re.fullmatch(r"(\d+)([smhd])", text)
    if relative:
        return now - timedelta(seconds=int(relative[1]) * UNITS[relative[2]])
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r} is no time", "use e.g. 10m, 2h, 1d or 2026-11-22T04:00:00") from None
    return found if found.tzinfo else found.astimezone()


def services_of(service: str) -> tuple[str, ...]:
    if service and service not in SERVICES:
        raise ConfigError(f"--service {service!r} is no service", f"use one of {', '.join(SERVICES)}, or leave it out")
    return (service,) if service else SERVICES


def containers(settings: Settings, engine: docker.DockerClient, services: Iterable[str]) -> list[Container]:
    found = engine.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{PROJECT_LABEL}={settings.project}"}
    )
    wanted = set(services)
    return sorted((c for c in found if c.labels.get(SERVICE_LABEL) in wanted), key=lambda c: c.name)


def lines(container: Container, since: datetime | None, follow: bool) -> Iterator[str]:
    """`<service> | <time> <line>` for each line the container wrote (after `since`)."""
    service = container.labels.get(SERVICE_LABEL, container.name)
    rest = ""
    for chunk in container.logs(stream=True, follow=follow, since=since, timestamps=True):
        rest += chunk.decode(errors="replace")
        *complete, rest = rest.split("\n")
        yield from (f"{service:<6} | {line}" for line in complete)
    if rest:
        yield f"{service:<6} | {rest}"


def show(settings: Settings, engine: docker.DockerClient, service: str, since: str, follow: bool, say: Say) -> None:
    found = containers(settings, engine, services_of(service))
    if not found:
        say(f"logs: no {service or 'bot or worker'} container of {settings.project} (nothing deployed?)")
        return
    start = since_of(since, datetime.now().astimezone())
    if not follow:
        merged = [line for container in found for line in lines(container, start, follow=False)]
        for line in sorted(merged, key=lambda line: line.partition(" | ")[2][:30]):
            say(line)
        return
    _follow(found, start, say)


def _follow(found: list[Container], start: datetime | None, say: Say) -> None:
    said: queue.Queue[str | None] = queue.Queue()

    def pump(container: Container) -> None:
        try:
            for line in lines(container, start, follow=True):
                said.put(line)
        finally:
            said.put(None)

    for container in found:
        threading.Thread(target=pump, args=(container,), daemon=True).start()
    running = len(found)
    while running:
        line = said.get()
        if line is None:
            running -= 1
        else:
            say(line)
