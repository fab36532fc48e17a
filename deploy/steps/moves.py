"""A deployment that moved to another engine (`invoke fleet-move`) leaves a mark on the engine it left.

The mark is the volume `<project>_moved`, labelled with where it went, when, and the final backup of
its state kept here; the state volume itself is removed (the final backup stays). While the mark is
there, a deploy or a restore of the project on this engine is refused (`refuse_moved`): it would start
a second writer of one state, the copy left here beside the one that runs there. A move back to this
engine removes the mark (`forget`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import docker
import docker.errors

from deploy.config import Settings
from deploy.errors import DeploymentMoved
from deploy.records import ledger

MOVED_TO = "io.tradebot.moved-to"
MOVED_AT = "io.tradebot.moved-at"
FINAL_BACKUP = "io.tradebot.final-backup"


@dataclass(frozen=True)
class Moved:
    to: str
    at: str
    final_backup: str


def marker(settings: Settings) -> str:
    return f"{settings.project}_moved"


def moved_to(settings: Settings, engine: docker.DockerClient) -> Moved | None:
    """Where the deployment went from this engine (None: it never left, or came back)."""
    try:
        labels = engine.volumes.get(marker(settings)).attrs.get("Labels") or {}
    except docker.errors.NotFound:
        return None
    return Moved(labels.get(MOVED_TO, "?"), labels.get(MOVED_AT, "?"), labels.get(FINAL_BACKUP, ""))


def mark(settings: Settings, engine: docker.DockerClient, to: str, final_backup: str) -> None:
    """Mark the deployment moved to `to` and remove its state volume here (nothing may use it any more)."""
    labels = {MOVED_TO: to, MOVED_AT: ledger.now(), FINAL_BACKUP: final_backup}
    engine.volumes.create(marker(settings), labels=labels)
    with contextlib.suppress(docker.errors.NotFound):
        engine.volumes.get(settings.state_volume).remove()


def forget(settings: Settings, engine: docker.DockerClient) -> None:
    """The deployment is back on this engine: the mark goes."""
    with contextlib.suppress(docker.errors.NotFound):
        engine.volumes.get(marker(settings)).remove()


def refuse_moved(settings: Settings, engine: docker.DockerClient) -> None:
    """DeploymentMoved when the deployment moved away from this engine."""
    moved = moved_to(settings, engine)
    if moved is not None:
        raise DeploymentMoved(
            f"{settings.project} moved to {moved.to} at {moved.at}: running it here would start a second writer "
            "of its state",
            f"run it where it lives now (DOCKER_HOST={moved.to}); to bring it back, `invoke fleet-move` it here "
            f"(its state as it left is in {moved.final_backup or 'its final backup'})",
            to=moved.to,
        )
