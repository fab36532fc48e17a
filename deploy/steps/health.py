"""Is a service healthy, by the engine's view of its container and its own health-check command?

`verdict` reads one container's inspect data (pure). While Docker still says `starting`,
`current_verdict` runs the container's own health-check command itself (`probe`: one exec,
`deploy.engine.execs`): the same test, without waiting for the engine's next scheduled probe (an
interval after start, as Docker 20.10 has no start interval). The probe passes only on a heartbeat
written by the container's own process (`trading.heartbeat`).

Starting a release is judged by its progress, not here (`deploy.steps.startup`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker
from docker.models.containers import Container

from deploy.config import Settings
from deploy.engine import compose, execs
from deploy.errors import ExecRefused
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


def probe_argv(test: Sequence[str] | None) -> list[str] | None:
    """The argv of a health-check `Test` (`CMD …` or `CMD-SHELL …`); None when there is none."""
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        return None
    return list(test[1:]) if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]


def probe(container: Container) -> bool:
    """Run the container's health-check command now; True when it passes."""
    return probed(container)[0]


def probed(container: Container) -> tuple[bool, str]:
    """Run the container's health-check command now: whether it passed, and its last line of output."""
    argv = probe_argv((container.attrs.get("Config", {}).get("Healthcheck") or {}).get("Test"))
    if argv is None:
        return False, "no health check"
    try:
        ran = execs.run(container, argv)
    except ExecRefused as exc:  # it stopped or is restarting since it was inspected, or the check cannot start
        return False, exc.message
    output = (ran.stdout or ran.stderr or b"").decode(errors="replace").strip()
    return ran.exit_code == 0, output.splitlines()[-1] if output else f"exit code {ran.exit_code}"


def service_container(
    settings: Settings, engine: docker.DockerClient, service: str, image_id: str | None = None
) -> Container | None:
    """The service's running container of `image_id` (any image without one), else its running one, else its
    newest one; of two alike (a standby beside the live one), the newest."""
    labels = [f"{compose.PROJECT_LABEL}={settings.project}", f"{compose.SERVICE_LABEL}={service}"]
    found = engine.containers.list(ignore_removed=True, all=True, filters={"label": labels})
    found.sort(key=lambda c: _preferred(c, image_id), reverse=True)
    return found[0] if found else None


def _preferred(container: Container, image_id: str | None) -> tuple[bool, bool, str]:
    running = container.status == "running"
    return running, running and container.attrs.get("Image") == image_id, str(container.attrs.get("Created", ""))


def current_verdict(settings: Settings, engine: docker.DockerClient, service: str, image_id: str) -> Verdict:
    """The engine's verdict on the service's container; while it says `starting`, the probe's."""
    container = service_container(settings, engine, service, image_id)
    seen = verdict(container.attrs if container else None, image_id)
    if seen.status == WAITING and container is not None and probe(container):
        return Verdict(HEALTHY)
    return seen
