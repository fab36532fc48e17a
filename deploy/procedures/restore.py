"""`invoke restore`: put a state backup back into the state volume, with the live release on it.

    lock → refuse while a volume rebuild forbids it (`deploy.procedures.rebuildguard`)
         → finish what a killed attempt left (`deploy.procedures.recover`) → choose the backup
    prepare: only bot and worker mount the state volume (`deploy.steps.writers`)
    switch: stop and remove bot and worker (the bot saves on its way out)
            → back up the state as it is now → empty the state volume and copy the backup in
            → start the live release on it → wait until healthy → verify
    finish: prune backups → ledger (one entry, its report holding every step)

Nothing runs on the state while it is copied, so both copies are consistent. The live release
runs with the runtime settings it was deployed with (recorded), and the attempt records them.
When a switch step fails, what the containers said is kept, they are stopped, the state from just before is copied
back (when it was kept) and the live release started on it again, and `RolledBack` says so
(`rolled_back`, exit 7; `RollbackFailed`, exit 11, when that fails too); the attempt is recorded.
With nothing deployed, only the volume is restored (and nothing recorded: the ledger is of releases).
"""

from __future__ import annotations

from typing import NoReturn

import docker

from deploy.config import Settings, runtime
from deploy.engine import baseimage
from deploy.engine.git import Repository
from deploy.engine.runner import Runner
from deploy.errors import RollbackFailed, RolledBack, StartFailed, VerifyFailed
from deploy.ids import short
from deploy.procedures import plan as planning
from deploy.procedures import preflight, procedure, rebuildguard, recover, releaserecord, services
from deploy.procedures.plan import Plan
from deploy.procedures.procedure import Attempt, Deployment, Procedure, Say, Step, locked
from deploy.procedures.trail import Trail
from deploy.records import ledger
from deploy.steps import backups, snapshot, tags
from deploy.steps.tags import LiveTags


def restore(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    name: str | None = None,
    runner: Runner | None = None,
    say: Say = print,
    trail: Trail | None = None,
) -> Attempt:
    """Restore the backup `name` (default: the newest); see the module docstring.

    The attempt returned names the backup put back (`restored_from`), the backup of the state from
    just before (`backup`, empty when there was no state) and the release running on it (`image`).
    Raises BackupMissing, LockHeld, RolledBack (the state from before is back), RollbackFailed.
    """
    d = Deployment.of(settings, engine, repo, say, runner, trail)
    with locked(settings, engine, f"restore {name or 'the newest backup'}", say):
        rebuildguard.refuse(d)
        recover.finish_interrupted(d)
        attempt, d = _attempt(d, name)
        live, source = attempt.image, attempt.restored_from
        helper = baseimage.resolve(settings, engine)
        procedure.run(d, attempt, steps(d, attempt, helper), lambda exc: _undo(d, attempt, helper, exc))
        say(f"restore: {settings.state_volume} holds {source}" + (f"; {short(live.commit)} runs on it" if live else ""))
        return attempt


def plan(
    settings: Settings, engine: docker.DockerClient, repo: Repository, name: str | None = None, say: Say = print
) -> None:
    """Say what `restore` would do: the live state, its steps, what stops it, the way back; changing nothing."""
    d = Deployment.of(settings, engine, repo, say)
    (attempt, d), helper = _attempt(d, name), baseimage.resolve(settings, engine)
    stops = (
        "another deploy holds the deploy lock (it is named; nothing is changed)",
        "stopping bot and worker, keeping the state or copying fails: the way back below",
        f"bot or worker exits on it, or makes no progress for {3 * settings.start_stall:g} s "
        "(3 x TRADEBOT_START_STALL: it ran before), or verify fails: the way back below",
    )
    recovery = planning.recovery_lines(
        "put the state from just before back and start the live release on it",
        _undo_steps(d, attempt, helper, attempt.backup),
    )
    live = attempt.image
    target = f"of {attempt.restored_from}" + (f" under {short(live.commit)}" if live else " (nothing deployed)")
    live_state = snapshot.capture(settings, engine, d.records)
    say(planning.render(Plan("restore", target, live_state, steps(d, attempt, helper).steps, stops, recovery)))


def _attempt(d: Deployment, name: str | None) -> tuple[Attempt, Deployment]:
    """The backup to put back and the release to run on it (with its recorded settings), before anything stops.

    Raises BackupMissing; UnknownRevision when this clone lacks the live release and the engine has no record of it.
    """
    settings, engine = d.settings, d.engine
    source = backups.choose(backups.listed(settings, engine), name).name
    live = tags.get(engine, settings.live_image)
    if live:
        releaserecord.trees_for(d, live)
        d = procedure.as_deployed(d, live, d.records.entries())
    safety = backups.next_backup(settings, engine) or ""
    return Attempt("restore", live, LiveTags(live, None), safety, source, runtime=runtime(d.environ)), d


def steps(d: Deployment, attempt: Attempt, helper: str) -> Procedure:
    settings, engine, live, safety = d.settings, d.engine, attempt.image, attempt.backup
    keep = Step(  # prune=False: the source must survive the copy
        f"keep the state as it is now in {safety}",
        lambda: backups.backup_state(settings, engine, helper, prune=False, name=safety),
        bot_down=True,
    )
    copy = Step(
        f"copy {attempt.restored_from} into {settings.state_volume}",
        lambda: backups.restore_state(settings, engine, helper, attempt.restored_from),
        bot_down=True,
    )
    switch = (
        *([services.remove_step(d, live, check=True)] if live else []),
        *([keep] if safety else []),
        copy,
        *(services.start_steps(d, live) if live else []),
    )
    prune = Step(
        f"prune state backups beyond the newest {settings.keep_backups}",
        lambda: backups.prune_backups(settings, engine),
    )
    return Procedure((preflight.writers_step(d),), switch, (prune,))


def _undo_steps(d: Deployment, attempt: Attempt, helper: str, kept: str) -> list[Step]:
    """Stop the containers that failed on the restored state, copy `kept` (the state from just before, when it
    was kept) back, and start the live release on it.

    The failed containers go first: a restarting bot would write into the volume while it is copied.
    """
    back = Step(
        f"put the state from before ({kept}) back",
        lambda: backups.restore_state(d.settings, d.engine, helper, kept),
        bot_down=True,
    )
    live = attempt.image
    if live is None:
        return [back] if kept else []
    failed = services.remove_step(d, live, stop_timeout=services.FAILED_STOP_SECONDS)
    return [*([failed, back] if kept else []), *services.start_steps(d, live)]


def _undo(d: Deployment, attempt: Attempt, helper: str, exc: Exception) -> NoReturn:
    """Stop the failed containers, copy the state from before back (when kept), start the live release; always raises.

    What the release's containers said on the restored state is kept first: the undo recreates them.
    """
    cause, live, source = procedure.cause_of(exc), attempt.image, attempt.restored_from
    if live is not None:
        cause = services.with_last_words(cause, services.keep_evidence(d, live.image_id))
    kept = attempt.backup if attempt.backup and backups.restorable(d.settings, d.engine, attempt.backup) else ""
    d.say(f"restore: {cause}")
    try:
        procedure.walk(d, "restore", _undo_steps(d, attempt, helper, kept))
    except procedure.FAILURES as again:
        again_cause = procedure.cause_of(again)
        procedure.record(d, attempt, ledger.ROLLBACK_FAILED, f"{cause}; undo failed: {again_cause}")
        raise RollbackFailed(
            f"restore of {source} failed ({cause}) and putting the state back failed too ({again_cause}); "
            "nothing verified runs",
            f"the state from before is kept in {kept}: `invoke restore --backup {kept}`"
            if kept
            else "look at `invoke status` and the containers' logs",
        ) from again
    procedure.record(d, attempt, ledger.ROLLED_BACK, cause)
    runs = f"; {short(live.commit)} runs on it, verified" if live else ""
    started = isinstance(exc, (StartFailed, VerifyFailed))  # the release did not come up on that backup
    raise RolledBack(
        f"restore of {source} failed ({cause}){'; the state from before is back' if kept else ''}{runs}",
        "the last lines above say why the bot did not start on that backup"
        if started
        else "fix the cause and run `invoke restore` again",
    ) from exc
