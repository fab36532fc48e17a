"""State-volume backups, through a helper container and the Docker API (never host paths).

A backup is a new volume `<state volume>-backup-<UTC time>`, labelled with the
volume it copies, filled by `cp -a` in a throw-away container that has no
network. The newest `settings.keep_backups` are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import docker
import docker.errors

from deploy.config import Settings
from deploy.errors import DeployError

BACKUP_OF = "io.tradebot.backup-of"
CREATED = "io.tradebot.created"


@dataclass(frozen=True)
class Backup:
    name: str
    created: str


def backup_name(volume: str, at: datetime) -> str:
    return f"{volume}-backup-{at.strftime('%Y%m%dT%H%M%S.%f')[:-3]}Z"


def copy_command() -> list[str]:
    return ["cp", "-a", "/from/.", "/to/"]


def backups_to_remove(backups: Iterable[Backup], keep: int) -> list[str]:
    newest_first = sorted(backups, key=lambda backup: backup.created, reverse=True)
    return [backup.name for backup in newest_first[keep:]]


def backup_state(settings: Settings, engine: docker.DockerClient, helper_image: str) -> str | None:
    """Copy the state volume into a new backup volume; None when there is no state volume yet."""
    source = settings.state_volume
    try:
        engine.volumes.get(source)
    except docker.errors.NotFound:
        return None
    at = datetime.now(UTC)
    target = backup_name(source, at)
    engine.volumes.create(target, labels={BACKUP_OF: source, CREATED: at.isoformat()})
    try:
        _copy(engine, helper_image, source, target)
    except docker.errors.DockerException as exc:
        engine.volumes.get(target).remove(force=True)
        raise DeployError(f"backing up {source} failed: {exc}", "nothing was changed; check the engine") from exc
    prune_backups(settings, engine)
    return target


def _copy(engine: docker.DockerClient, image: str, source: str, target: str) -> None:
    engine.containers.run(
        image,
        entrypoint=copy_command(),
        user="0:0",
        network_disabled=True,
        volumes={source: {"bind": "/from", "mode": "ro"}, target: {"bind": "/to", "mode": "rw"}},
        remove=True,
    )


def backups(settings: Settings, engine: docker.DockerClient) -> list[Backup]:
    found = engine.volumes.list(filters={"label": f"{BACKUP_OF}={settings.state_volume}"})
    return [Backup(volume.name, (volume.attrs.get("Labels") or {}).get(CREATED, "")) for volume in found]


def prune_backups(settings: Settings, engine: docker.DockerClient) -> list[str]:
    doomed = backups_to_remove(backups(settings, engine), settings.keep_backups)
    for name in doomed:
        engine.volumes.get(name).remove()
    return doomed
