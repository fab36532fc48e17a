"""State-volume backups and restores, through a helper container and the Docker API (never host paths).

A backup is a new volume `<state volume>-backup-<UTC time>`, labelled with the
volume it copies, filled in a throw-away container that has no network by
`deploy.engine.scripts.statecopy` (python3 of the base image): SQLite files through SQLite's
online backup API, every other file whole, so a backup taken while the worker
commits is consistent. The newest `settings.keep_backups` are kept. A restore
empties the state volume and copies a (quiescent) backup into it with `cp -a`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import docker
import docker.errors

from deploy import meanwhile
from deploy.config import Settings
from deploy.engine import helpers
from deploy.errors import BackupFailed, BackupMissing, CommandFailed, RebuildUnfinished, first_of
from deploy.steps import backupproof

BACKUP_OF = "io.tradebot.backup-of"
CREATED = "io.tradebot.created"
REBUILD_OF = "io.tradebot.rebuild-of"


COMPLETE, INCOMPLETE, UNPROVEN = "complete", "incomplete", "unproven"


@dataclass(frozen=True)
class Backup:
    name: str
    created: str
    # complete: proven and marked (`deploy.steps.backupproof`); incomplete: made by this version and never
    # marked (killed on the way, or its proof failed): never restored; unproven: made before backups were proven
    state: str = UNPROVEN

    @property
    def restorable(self) -> bool:
        return self.state != INCOMPLETE


def backup_name(volume: str, at: datetime) -> str:
    return f"{volume}-backup-{at.strftime('%Y%m%dT%H%M%S.%f')[:-3]}Z"


def replace_command() -> list[str]:
    """Empty `/to`, then copy `/from` into it: afterwards `/to` holds exactly what `/from` holds."""
    return ["sh", "-c", "find /to -mindepth 1 -delete && cp -a /from/. /to/"]


def newest_first(found: Iterable[Backup]) -> list[Backup]:
    return sorted(found, key=lambda backup: backup.created, reverse=True)


def backups_to_remove(found: Iterable[Backup], keep: int) -> list[str]:
    """Every incomplete backup, and the restorable ones beyond the newest `keep`."""
    ordered = newest_first(found)
    restorable = [backup for backup in ordered if backup.restorable]
    return [backup.name for backup in ordered if not backup.restorable] + [b.name for b in restorable[keep:]]


def choose(found: Iterable[Backup], name: str | None) -> Backup:
    """The backup called `name`, or the newest restorable one; `BackupMissing` names the ones there are."""
    ordered = newest_first(found)
    incomplete = [backup.name for backup in ordered if not backup.restorable]
    if name in incomplete:
        raise BackupMissing(
            f"state backup {name} is incomplete: it was never proven (killed on the way, or its proof failed)",
            "pick a complete one (`invoke backups` marks the incomplete ones)",
            name=name,
            incomplete=incomplete,
        )
    ordered = [backup for backup in ordered if backup.restorable]
    chosen = [backup for backup in ordered if name in (None, backup.name)]
    if not chosen:
        names = [backup.name for backup in ordered]
        raise BackupMissing(
            f"no state backup named {name}" if name else "no state backup exists",
            f"pick one of {first_of(names, 3)} (`invoke backups`)" if names else "a deploy or rollback makes one",
            name=name,
            available=names,
        )
    return chosen[0]


def rebuild_marker(state_volume: str) -> str:
    """The volume that exists while a rebuild of `state_volume` is unfinished (`deploy.rebuild`)."""
    return f"{state_volume}-rebuilding"


def refuse_unfinished_rebuild(settings: Settings, engine: docker.DockerClient) -> None:
    """Raise `RebuildUnfinished` while a rebuild of the state volume is unfinished: it is not proven yet."""
    try:
        marker = engine.volumes.get(rebuild_marker(settings.state_volume))
    except docker.errors.NotFound:
        return
    legacy = (marker.attrs.get("Labels") or {}).get(REBUILD_OF, "the legacy volume")
    raise unfinished(settings.state_volume, legacy)


def unfinished(volume: str, legacy: str) -> RebuildUnfinished:
    """The refusal while the rebuild of `volume` from `legacy` is unfinished."""
    return RebuildUnfinished(
        f"the rebuild of {volume} from {legacy} was interrupted, so the state volume is not proven",
        f"run `invoke volume-rebuild --legacy {legacy}` again: it finishes the rebuild",
        volume=volume,
        legacy=legacy,
    )


def next_backup(settings: Settings, engine: docker.DockerClient) -> str | None:
    """The name a backup of the state volume made now gets; None when there is no state volume (nothing to keep)."""
    if not exists(engine, settings.state_volume):
        return None
    return backup_name(settings.state_volume, datetime.now(UTC))


def exists(engine: docker.DockerClient, name: str) -> bool:
    try:
        engine.volumes.get(name)
    except docker.errors.NotFound:
        return False
    return True


def backup_state(
    settings: Settings, engine: docker.DockerClient, helper_image: str, prune: bool = True, name: str | None = None
) -> str | None:
    """Copy the state volume into a new backup volume (`name`, else `next_backup`); None when there is no state.

    Refused while a rebuild of the state volume is unfinished, so no deploy, rollback or
    restore ever starts on a half-made state volume.
    """
    refuse_unfinished_rebuild(settings, engine)
    source = settings.state_volume
    target = name or next_backup(settings, engine)
    if target is None:
        return None
    created = datetime.now(UTC).isoformat()
    labels = {BACKUP_OF: source, CREATED: created, backupproof.PROOF_LABEL: "marker"}
    # the other backups' markers, read while the copy runs
    marked = meanwhile.start("backup-markers", backupproof.read_all, settings, engine) if prune else None
    engine.volumes.create(target, labels=labels)
    try:
        written = _copy(engine, helper_image, source, target, backupproof.command(), settings.project, "rw")
        manifest, inventory = backupproof.split(written)
        problems = backupproof.differences(manifest, inventory)
        if problems:
            raise CommandFailed(["prove", target], 1, f"the copy differs from its manifest: {first_of(problems, 3)}")
    except (docker.errors.DockerException, CommandFailed) as exc:
        engine.volumes.get(target).remove(force=True)
        hint = "check the engine (`docker info`) and deploy again"
        raise BackupFailed(f"backing up {source} failed: {exc}; nothing was stopped", hint) from exc
    made = backupproof.marker(target, source, created, manifest, datetime.now(UTC).isoformat())
    backupproof.write(settings, engine, made)
    if marked is not None:
        prune_backups(settings, engine, {**marked(), target: made})
    return target


def restore_state(settings: Settings, engine: docker.DockerClient, helper_image: str, backup: str) -> None:
    """Make the state volume (created when missing) hold exactly what `backup` holds."""
    _copy(engine, helper_image, backup, settings.state_volume, replace_command(), settings.project)


def _copy(
    engine: docker.DockerClient,
    image: str,
    source: str,
    target: str,
    command: list[str],
    project: str,
    source_mode: str = "ro",
) -> bytes:
    """Run `command` as root in a helper with `source` at /from and `target` at /to; its stdout. CommandFailed
    when it fails."""
    mounts = {source: ("/from", source_mode), target: ("/to", "rw")}
    ran = helpers.run(engine, image, project, entrypoint=command, mounts=mounts, user="0:0")
    ran.checked([command[0], f"{source} → {target}"])
    return ran.stdout


def listed(settings: Settings, engine: docker.DockerClient) -> list[Backup]:
    """The state volume's backups, each complete, incomplete or unproven (by its marker), in no particular order."""
    return listed_of(engine, settings.state_volume, backupproof.read_all(settings, engine))


def listed_of(engine: docker.DockerClient, volume: str, marked: Mapping[str, object] | None = None) -> list[Backup]:
    """The backup volumes of `volume` (labelled `BACKUP_OF`), in no particular order; `marked`: the names of the
    backups proven and marked (`backupproof.read_all`)."""
    found = engine.volumes.list(filters={"label": f"{BACKUP_OF}={volume}"})
    return [_backup(made.name, made.attrs.get("Labels") or {}, marked or {}) for made in found]


def _backup(name: str, labels: Mapping[str, str], marked: Mapping[str, object]) -> Backup:
    if labels.get(backupproof.PROOF_LABEL) != "marker":
        return Backup(name, labels.get(CREATED, ""), UNPROVEN)
    return Backup(name, labels.get(CREATED, ""), COMPLETE if name in marked else INCOMPLETE)


def output(found: Iterable[Backup], as_json: bool = False) -> str:
    """The backups, newest first: a JSON list, or one `created  name` line each (an incomplete one said so)."""
    ordered = newest_first(found)
    if as_json:
        return json.dumps([dataclasses.asdict(backup) for backup in ordered])
    notes = {INCOMPLETE: "  INCOMPLETE: never proven, never restored", UNPROVEN: "  (made before backups were proven)"}
    lines = (f"{backup.created}  {backup.name}{notes.get(backup.state, '')}" for backup in ordered)
    return "\n".join(lines) or "no backups"


def restorable(settings: Settings, engine: docker.DockerClient, name: str) -> bool:
    """Whether the backup `name` exists and may be put back (not an incomplete one)."""
    return any(backup.name == name and backup.restorable for backup in listed(settings, engine))


def prune_backups(
    settings: Settings, engine: docker.DockerClient, marked: Mapping[str, object] | None = None
) -> list[str]:
    """Remove the incomplete backups and the restorable ones beyond the newest `keep_backups`; their names.
    `marked`: every backup's marker as the caller knows them (`backupproof.read_all`), else they are read here."""
    found = listed(settings, engine) if marked is None else listed_of(engine, settings.state_volume, marked)
    doomed = backups_to_remove(found, settings.keep_backups)
    for name in doomed:
        engine.volumes.get(name).remove()
    return doomed
