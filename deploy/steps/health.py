"""Waiting for the services to be healthy, through the engine's view of their containers.

`verdict` reads one container's inspect data (pure); `wait_healthy` polls until
every service is healthy, one fails, or the timeout passes, and names the service.

While Docker still says `starting`, the wait runs the container's own health-check
command itself (one exec, `deploy.engine.execs`): the same test, without waiting for the engine's next
scheduled probe (an interval after start, as Docker 20.10 has no start interval).
An `unhealthy` verdict from the engine still fails the deploy. The services are asked at the
same time, and a service whose probe passed is not probed again while the wait goes on for the
other (its inspect data still is: a crash after it passed fails the wait).

The probe passes only on a heartbeat written by the container's own process (`trading.heartbeat`),
so a service still waiting has not written its first one. That is a failed release once
`start_timeout` has passed: a bot that hangs before its first tick is found in seconds, not when a
heartbeat left behind by the replaced container goes stale or the engine's start period runs out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import docker
from docker.models.containers import Container

from deploy.config import SERVICES, Settings
from deploy.engine import compose, execs
from deploy.errors import ExecRefused, Unhealthy
from deploy.ids import short

HEALTHY = "healthy"
WAITING = "waiting"
FAILED = "failed"


@dataclass(frozen=True)
class Verdict:
    status: str
    detail: str = ""


def verdict(attrs: Mapping[str, Any] | None, image_id: str) -> Verdict:
    """Healthy, still waiting, or failed (and why) for one container's inspect data."""
    if attrs is None:
        return Verdict(FAILED, "it has no container")
    state = attrs.get("State") or {}
    if attrs.get("Image") != image_id:
        return Verdict(FAILED, f"its container runs image {short(str(attrs.get('Image')))}, not {short(image_id)}")
    if state.get("Status") != "running" or attrs.get("RestartCount", 0):
        restarts = attrs.get("RestartCount", 0)
        return Verdict(FAILED, f"its process exited with code {state.get('ExitCode')} (restarted {restarts} times)")
    health = state.get("Health")
    if not health:
        return Verdict(FAILED, "its container has no health check")
    last = _last_probe(health)
    if health.get("Status") == "healthy":
        return Verdict(HEALTHY)
    if health.get("Status") == "unhealthy":
        return Verdict(FAILED, f"health check fails: {last}")
    return Verdict(WAITING, last)


def _last_probe(health: Mapping[str, Any]) -> str:
    log = health.get("Log") or []
    output = str(log[-1].get("Output", "")).strip() if log else ""
    return output.splitlines()[-1] if output else "no health check has run yet"


def unhealthy(service: str, reason: str) -> Unhealthy:
    return Unhealthy(
        f"service {service} is not healthy: {reason}",
        f"read its log (`docker logs` of the {service} container) and fix the release",
    )


def probe_argv(test: Sequence[str] | None) -> list[str] | None:
    """The argv of a health-check `Test` (`CMD …` or `CMD-SHELL …`); None when there is none."""
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        return None
    return list(test[1:]) if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]


def probe(container: Container) -> bool:
    """Run the container's health-check command now; True when it passes."""
    argv = probe_argv((container.attrs.get("Config", {}).get("Healthcheck") or {}).get("Test"))
    if argv is None:
        return False
    try:
        return execs.run(container, argv).exit_code == 0
    except ExecRefused:  # it stopped or is restarting since it was inspected, or the check cannot start: not passed
        return False


def service_container(settings: Settings, engine: docker.DockerClient, service: str) -> Container | None:
    labels = [f"{compose.PROJECT_LABEL}={settings.project}", f"{compose.SERVICE_LABEL}={service}"]
    found = engine.containers.list(all=True, filters={"label": labels})
    return found[0] if found else None


def current_verdict(
    settings: Settings, engine: docker.DockerClient, service: str, image_id: str, passed: bool = False
) -> Verdict:
    """The engine's verdict; while it says `starting`, the probe's (`passed`: it passed before, not run again)."""
    return judged(settings, engine, service, image_id, passed)[1]


def judged(
    settings: Settings, engine: docker.DockerClient, service: str, image_id: str, passed: bool = False
) -> tuple[str, Verdict]:
    """`current_verdict`, with the id of the container judged (empty when there is none)."""
    container = service_container(settings, engine, service)
    seen = verdict(container.attrs if container else None, image_id)
    found = (container.id or "") if container else ""
    if seen.status == WAITING and container is not None and (passed or probe(container)):
        return found, Verdict(HEALTHY)
    return found, seen


def wait_healthy(
    settings: Settings, engine: docker.DockerClient, image_id: str, services: Sequence[str] = SERVICES
) -> frozenset[str]:
    """Return when every service's container runs `image_id` and is healthy; raise `Unhealthy` naming one.

    Returns the ids of those containers: a verify right after need not run their probes again.
    """
    deadline, passed = time.monotonic() + settings.start_timeout, set[str]()
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        while True:
            asked = {s: pool.submit(judged, settings, engine, s, image_id, s in passed) for s in services}
            found = {service: future.result() for service, future in asked.items()}
            for service, (_, seen) in found.items():
                if seen.status == FAILED:
                    raise unhealthy(service, seen.detail)
            passed |= {service for service, (_, seen) in found.items() if seen.status == HEALTHY}
            waiting = {service: seen for service, (_, seen) in found.items() if seen.status == WAITING}
            if not waiting:
                return frozenset(container_id for container_id, _ in found.values())
            if time.monotonic() > deadline:
                service, seen = next(iter(waiting.items()))
                why = f"no heartbeat of its own within {settings.start_timeout:.0f}s (last probe: {seen.detail})"
                raise unhealthy(service, why)
            time.sleep(0.2)
