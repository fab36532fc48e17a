"""`invoke restore`: put a state backup back into the state volume, with the live release on it.

    lock → choose the backup → stop and remove bot and worker (the bot saves on its way out)
    → back up the state as it is now → empty the state volume and copy the backup in
    → start the live release on it → wait until healthy → verify → ledger → prune backups

Nothing runs on the state while it is copied, so both copies are consistent.
When the backup, the copy or the start fails, the state from just before is copied
back (when it was kept) and the live release started on it again, and `DeployError`
says so; the attempt is recorded. With nothing deployed, only the volume is restored
(and nothing recorded: the ledger is of releases).
"""

from __future__ import annotations

from dataclasses import dataclass

import docker
import docker.errors

from deploy import baseimage, ledger, lock, tags, volumes
from deploy.config import Settings
from deploy.engine import compose_argv
from deploy.errors import DeployError, TradebotError, Unhealthy, VerifyFailed
from deploy.git import Repository
from deploy.images import ReleaseImage
from deploy.release import Attempt, Say, cause_of, remove_services, start_verified
from deploy.runner import Runner


@dataclass(frozen=True)
class Restored:
    source: str  # the backup now in the state volume
    safety: str | None  # the backup of the state from just before (None: there was no state volume)
    commit: str | None  # the release running on it (None: nothing is deployed)


def restore(
    settings: Settings, engine: docker.DockerClient, repo: Repository, name: str | None = None,
    runner: Runner | None = None, say: Say = print,
) -> Restored:  # fmt: skip
    """Restore the backup `name` (default: the newest); see the module docstring.

    Raises BackupMissing, LockHeld, DeployError (the state from before is back).
    """
    with lock.held(settings, engine, f"restore {name or 'the newest backup'}", say):
        source = volumes.choose(volumes.backups(settings, engine), name).name
        live = tags.get(engine, settings.live_image)
        if live:
            repo.commit(live.commit)  # its compose file comes from this clone: UnknownRevision before anything stops
        attempt = Attempt(settings, engine, repo, runner or Runner(), say, "restore", compose_argv(settings))
        attempt.started, attempt.restored_from = ledger.now(), source
        helper = baseimage.resolve(settings, engine)
        safety: str | None = None
        try:
            if live:
                say(f"restore: stopping bot and worker of {live.commit[:12]} (the bot saves on its way out) …")
                remove_services(attempt, live, check=True)
            safety = volumes.backup_state(settings, engine, helper, prune=False)  # the source must survive the copy
            attempt.backup = safety or ""
            say(f"restore: the state from before is kept in {safety}" if safety else "restore: there was no state yet")
            say(f"restore: copying {source} into {settings.state_volume} …")
            volumes.restore_state(settings, engine, helper, source)
            if live:
                start_verified(attempt, live)
        except (TradebotError, docker.errors.DockerException) as exc:
            _undo(attempt, live, helper, safety, source, exc)
        volumes.prune_backups(settings, engine)
        _record(attempt, live, ledger.SUCCEEDED)
        say(f"restore: {settings.state_volume} holds {source}" + (f"; {live.commit[:12]} runs on it" if live else ""))
        return Restored(source, safety, live.commit if live else None)


def _undo(
    attempt: Attempt, live: ReleaseImage | None, helper: str, safety: str | None, source: str, exc: Exception
) -> None:
    """Copy the state from before back (when it was kept) and start the live release on it; always raises."""
    cause = cause_of(exc)
    attempt.say(f"restore: {cause}; putting the state from before back …" if safety else f"restore: {cause}")
    try:
        if safety:
            volumes.restore_state(attempt.settings, attempt.engine, helper, safety)
        if live:
            start_verified(attempt, live)
    except (TradebotError, docker.errors.DockerException) as again:
        _record(attempt, live, ledger.FAILED, f"{cause}; undo failed: {cause_of(again)}")
        raise DeployError(
            f"restore of {source} failed ({cause}) and putting the state back failed too ({cause_of(again)})",
            f"the state from before is kept in {safety}: `invoke restore --backup {safety}`"
            if safety
            else "look at `docker compose ps` and the containers' logs",
        ) from again
    _record(attempt, live, ledger.FAILED, cause)
    back = "; the state from before is back" if safety else ""
    runs = f"; {live.commit[:12]} runs on it" if live else ""
    started = isinstance(exc, (Unhealthy, VerifyFailed))  # the release did not come up on that backup
    raise DeployError(
        f"restore of {source} failed ({cause}){back}{runs}",
        "`docker logs` of the bot shows why it did not start on that backup"
        if started
        else "fix the cause and run `invoke restore` again",
    ) from exc


def _record(attempt: Attempt, live: ReleaseImage | None, outcome: str, cause: str = "") -> None:
    if live:
        attempt.record(live, tags.LiveTags(live, None), outcome, cause)
