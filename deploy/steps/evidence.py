"""What a failed release's containers said, kept before they are removed (`deploy.engine.observe.evidence`).

A crash at start leaves its traceback in its container's log only; the rollback removes the container.
So before any removal the procedure keeps each container's last lines and how it ended, says them,
and records them in the ledger entry, the report and the JSON document (`deploy.procedures.trail`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import docker

from deploy.config import SERVICES, Settings
from deploy.engine import compose, observe
from deploy.engine.observe import Evidence
from deploy.output.render import template


def of_image(settings: Settings, engine: docker.DockerClient, image_id: str) -> list[Evidence]:
    """The evidence of each bot and worker container of the project that runs `image_id`, bot first."""
    found = engine.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{compose.PROJECT_LABEL}={settings.project}"}
    )
    ours = [c for c in found if c.attrs.get("Image") == image_id and c.labels.get(compose.SERVICE_LABEL) in SERVICES]
    ours.sort(key=lambda c: SERVICES.index(c.labels[compose.SERVICE_LABEL]))
    return [observe.evidence(engine, container.id or "") for container in ours]


def of_containers(engine: docker.DockerClient, ids: Iterable[str]) -> list[Evidence]:
    return [observe.evidence(engine, container) for container in ids]


def text(found: Sequence[Evidence]) -> str:
    """The operator's lines: each container, how it ended, its last lines."""
    return template("evidence.txt.j2", evidence=found).rstrip("\n")


def last_words(found: Sequence[Evidence]) -> str:
    """`bot exited with code 1: ValueError: …` for each container that ended (or restarted); empty when none did."""
    ended = [kept for kept in found if kept.exit_code is not None or kept.restarts]
    return "; ".join(f"{kept.service} {_ended(kept)}: {kept.last_line}" for kept in ended)


def _ended(kept: Evidence) -> str:
    if kept.exit_code is not None:
        return f"exited with code {kept.exit_code}"
    return f"exited and was restarted {kept.restarts} times"
