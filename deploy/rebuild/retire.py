"""`invoke volume-retire`: remove a legacy volume, only once nothing can be lost by it (the seed's step 1d).

Conditions, checked in this order; the first that does not hold is named and nothing is removed:

1. no rebuild is unfinished, and the state volume was rebuilt from this legacy volume;
2. a backup of it exists that is proven identical to it now, file by file;
3. the live release runs verified (`invoke verify`) with bot and worker on that state volume.

Then the volume is removed (refused by the engine while any container still uses it) and the
retirement recorded in the ledger.
"""

from __future__ import annotations

import docker

from deploy import verify as verification
from deploy.config import SERVICES, STATE_PATH, Settings
from deploy.engine import baseimage, helpers
from deploy.engine.compose import PROJECT_LABEL, SERVICE_LABEL
from deploy.engine.git import Repository
from deploy.errors import RetireRefused, TradebotError
from deploy.ids import short
from deploy.output.progress import Progress, Say
from deploy.procedures.procedure import Step, locked, walk_steps
from deploy.procedures.trail import Trail
from deploy.rebuild import engineops, inventory, labels
from deploy.rebuild.engineops import Helper
from deploy.records import ledger
from deploy.records.view import EngineRecords
from deploy.steps import backups, rebuilding

EVENT = "volume-retire"


def retire(settings: Settings, engine: docker.DockerClient, repo: Repository, legacy: str, say: Say = print) -> str:
    """Remove `legacy` when the conditions hold; the proven backup's name. Raises RetireRefused, LegacyMissing,
    VolumeInUse, LockHeld."""
    with locked(settings, engine, f"{EVENT} {legacy}", say):
        started = ledger.now()
        helpers.sweep(settings, engine, everyone=True)
        engineops.require(engine, legacy)
        rebuilding.refuse_legacy_writers(engine, legacy)
        found: dict[str, str] = {}  # what the steps proved: the backup, the live commit
        walk_steps(Progress(EVENT, say, total=3), Trail(), _steps(settings, engine, repo, legacy, found))
        entry = ledger.Entry(
            EVENT,
            found["commit"],
            "",
            "",
            started,
            ledger.now(),
            ledger.operator(),
            ledger.SUCCEEDED,
            backup=found["backup"],
            restored_from=legacy,
        )
        ledger.append(settings, engine, entry)
        return found["backup"]


def _steps(
    settings: Settings, engine: docker.DockerClient, repo: Repository, legacy: str, found: dict[str, str]
) -> list[Step]:
    """The three conditions as steps, in order; each keeps what it proved in `found`."""
    state = settings.state_volume

    def rebuilt() -> str:
        _rebuilt_from(settings, engine, legacy)
        return f"{state} was rebuilt from {legacy} and the rebuild finished"

    def proven() -> str:
        found["backup"] = _proven_backup(Helper(engine, baseimage.resolve(settings, engine), settings.project), legacy)
        return f"{found['backup']} is identical to {legacy}"

    def live() -> str:
        found["commit"] = _live_on_state(settings, engine, repo, legacy)
        engine.volumes.get(legacy).remove()
        return f"{short(found['commit'])} runs verified on {state}; {legacy} removed, {found['backup']} kept"

    return [
        Step("state volume", rebuilt, doing=f"checking {state} was rebuilt from {legacy}", proves=True),
        Step("backup", proven, doing=f"proving a backup of {legacy} identical to it", proves=True),
        Step("live release", live, doing=f"verifying the live release runs on {state}", proves=True),
    ]


def _rebuilt_from(settings: Settings, engine: docker.DockerClient, legacy: str) -> None:
    rebuild, state = f"run `invoke volume-rebuild --legacy {legacy}` first", settings.state_volume
    journal, made = engineops.labels_of(engine, backups.rebuild_marker(state)), engineops.labels_of(engine, state)
    if rebuilding.unfinished(journal, made, EngineRecords(settings, engine).entries()) is not None:
        raise RetireRefused(f"{legacy} is kept: the rebuild of {settings.state_volume} is unfinished", rebuild)
    if labels.rebuilt_from(engineops.labels_of(engine, settings.state_volume)) != legacy:
        raise RetireRefused(f"{legacy} is kept: {settings.state_volume} was not rebuilt from it", rebuild)


def _proven_backup(tool: Helper, legacy: str) -> str:
    found = tool.engine.volumes.list(filters={"label": f"{backups.BACKUP_OF}={legacy}"})
    if found:
        expected = tool.inventory(legacy)
        for volume in sorted(found, key=lambda v: v.name, reverse=True):
            if not inventory.differences(expected, tool.inventory(volume.name)):
                return volume.name
    raise RetireRefused(
        f"{legacy} is kept: no backup proven identical to it (of {len(found)} labelled {backups.BACKUP_OF}={legacy})",
        f"run `invoke volume-rebuild --legacy {legacy} --force` to make one",
    )


def _live_on_state(settings: Settings, engine: docker.DockerClient, repo: Repository, legacy: str) -> str:
    deploy = "run `invoke deploy` and `invoke verify` until it passes"
    try:
        report = verification.verify(settings, engine, repo)
    except TradebotError as exc:
        raise RetireRefused(f"{legacy} is kept: no live release runs verified ({exc.message})", deploy) from exc
    if not report.ok:
        raise RetireRefused(f"{legacy} is kept: the live release does not run verified ({report.summary()})", deploy)
    for service in SERVICES:
        if not _mounts_state(settings, engine, service):
            where = f"{settings.state_volume} at {STATE_PATH}"
            raise RetireRefused(f"{legacy} is kept: {service} does not run on {where}", deploy)
    return report.release


def _mounts_state(settings: Settings, engine: docker.DockerClient, service: str) -> bool:
    selector = {"label": [f"{PROJECT_LABEL}={settings.project}", f"{SERVICE_LABEL}={service}"]}
    mounts = [
        m for c in engine.containers.list(ignore_removed=True, filters=selector) for m in c.attrs.get("Mounts", [])
    ]
    return any(m.get("Name") == settings.state_volume and m.get("Destination") == STATE_PATH for m in mounts)
