"""Names and labels of the volumes a rebuild makes, as data.

    <legacy>-backup-<UTC time>       the whole legacy volume   io.tradebot.backup-of=<legacy>, .created
    <project>_state                  the state-only volume     com.docker.compose.project/.volume/.version
                                                               (what Compose gives a volume it made, so
                                                               `docker compose up` adopts it without a
                                                               warning), io.tradebot.rebuilt-from=<legacy>,
                                                               io.tradebot.legacy-backup=<backup>
    <project>_state-rebuilding       the journal: exists exactly while a rebuild is unfinished;
                                     io.tradebot.rebuild-of=<legacy>, io.tradebot.legacy-backup=<backup>

Volume labels cannot change after creation, so completion is marked by the ledger's succeeded
`volume-rebuild` entry, then by removing the journal volume last (`deploy.steps.rebuilding`).
Pure functions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from deploy.engine.compose import PROJECT_LABEL
from deploy.steps import backups
from deploy.steps.rebuilding import LEGACY_BACKUP, REBUILT_FROM

COMPOSE_VOLUME = "com.docker.compose.volume"
COMPOSE_VERSION = "com.docker.compose.version"


def backup_labels(source: str, at: datetime) -> dict[str, str]:
    return {backups.BACKUP_OF: source, backups.CREATED: at.isoformat()}


def journal_labels(legacy: str, backup: str, at: datetime) -> dict[str, str]:
    return {backups.REBUILD_OF: legacy, LEGACY_BACKUP: backup, backups.CREATED: at.isoformat()}


def state_labels(project: str, compose_key: str, compose_version: str, legacy: str, backup: str) -> dict[str, str]:
    return {
        PROJECT_LABEL: project,
        COMPOSE_VOLUME: compose_key,
        COMPOSE_VERSION: compose_version,
        REBUILT_FROM: legacy,
        LEGACY_BACKUP: backup,
    }


def rebuilt_from(labels: Mapping[str, str] | None) -> str | None:
    return (labels or {}).get(REBUILT_FROM)
