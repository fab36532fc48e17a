"""`invoke deploy` and `invoke rollback`: the order of the steps, and what a failure sets off.

    lock → the commit's release image (clean, unless forced) → back up the state volume
    → tag the old live image `:previous` and this one `:live` → recreate bot and worker
    in ONE compose call → wait until both are healthy → verify → ledger → prune images

When health or verify fails, the release that was live is tagged live again,
both services are recreated from it, checked, and `RolledBack` is raised; with
no earlier release the failed services are removed and `DeployError` raised.
Every attempt that got past choosing its image is recorded in the ledger.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import docker
import docker.errors

from deploy import baseimage, compose, health, ledger, lock, tags, volumes
from deploy import verify as verification
from deploy.config import Settings
from deploy.engine import compose_argv
from deploy.errors import DeployError, ImageMissing, RolledBack, TradebotError, VerifyFailed
from deploy.git import Repository
from deploy.images import ReleaseImage
from deploy.runner import PlanRunner, Runner

Say = Callable[[str], None]


@dataclass(frozen=True)
class Release:
    """What runs after a successful deploy or rollback."""

    commit: str
    image_id: str
    code_digest: str
    previous: str
    backup: str | None


@dataclass
class Attempt:
    settings: Settings
    engine: docker.DockerClient
    repo: Repository
    runner: Runner
    say: Say
    event: str
    compose: tuple[str, ...] = ()
    started: str = ""
    backup: str = ""
    restored_from: str = ""

    def record(self, target: ReleaseImage, before: tags.LiveTags, outcome: str, cause: str = "") -> None:
        previous = before.live.commit if before.live else ""
        entry = ledger.Entry(
            self.event, target.commit, target.image_id, target.code_digest, self.started, ledger.now(),
            ledger.operator(), outcome, cause, previous, target.dirty, self.backup, self.restored_from,
        )  # fmt: skip
        ledger.append(self.settings, self.engine, entry)


def deploy(
    settings: Settings, engine: docker.DockerClient, repo: Repository, rev: str = "HEAD", force: bool = False,
    runner: Runner | None = None, say: Say = print,
) -> Release:  # fmt: skip
    """Run the release image of `rev` (made by `deploy.build.build`) as bot and worker; see the module docstring.

    `force` accepts an image built from a dirty tree. Raises ImageMissing, DirtyImage, LockHeld,
    RolledBack (the earlier release runs again), DeployError.
    """
    prefix = compose_argv(settings)
    with lock.held(settings, engine, f"deploy {rev}", say):
        target = tags.of_commit(settings, engine, repo.commit(rev).sha, force)
        attempt = Attempt(settings, engine, repo, runner or Runner(), say, "deploy", prefix)
        return _switch(attempt, target)


def rollback(
    settings: Settings, engine: docker.DockerClient, repo: Repository, to: str | None = None,
    runner: Runner | None = None, say: Say = print,
) -> Release:  # fmt: skip
    """Run an earlier release again: `to` (a revision), else `:previous`, else the ledger's last other success."""
    prefix = compose_argv(settings)
    with lock.held(settings, engine, "rollback", say):
        target = rollback_target(settings, engine, repo, to)
        attempt = Attempt(settings, engine, repo, runner or Runner(), say, "rollback", prefix)
        return _switch(attempt, target)


def rollback_target(settings: Settings, engine: docker.DockerClient, repo: Repository, to: str | None) -> ReleaseImage:
    if to:
        return tags.of_commit(settings, engine, repo.commit(to).sha, force=False)
    previous = tags.get(engine, settings.previous_image)
    if previous:
        return previous
    live = tags.get(engine, settings.live_image)
    entry = ledger.last_success_before(ledger.read(settings, engine), live.commit if live else "")
    if entry is None:
        raise ImageMissing(
            settings.previous_image, "no earlier release is recorded; name one: `invoke rollback --to REV`"
        )
    found = tags.get(engine, entry.image_id)
    if found is None:
        short = entry.commit[:12]
        raise ImageMissing(f"{entry.image_id[7:19]} of {short}", f"run `invoke build --rev {short}` and deploy that")
    return found


def plan(
    settings: Settings, engine: docker.DockerClient, repo: Repository, rev: str = "HEAD", force: bool = False
) -> None:
    """Print what `deploy` would do, changing nothing."""
    target = tags.of_commit(settings, engine, repo.commit(rev).sha, force)
    before = tags.live_tags(settings, engine)
    print(f"would back up volume {settings.state_volume} (when it exists)")
    print(f"would tag {target.image_id[7:19]} ({target.commit[:12]}) as {settings.live_image}")
    if before.live and before.live.image_id != target.image_id:
        print(f"would tag {before.live.image_id[7:19]} ({before.live.commit[:12]}) as {settings.previous_image}")
    compose_up(Attempt(settings, engine, repo, PlanRunner(), print, "plan", compose_argv(settings)), target)
    print("would wait for bot and worker to be healthy, verify, record the release and prune old images")


def _switch(attempt: Attempt, target: ReleaseImage) -> Release:
    attempt.started = ledger.now()
    before = tags.live_tags(attempt.settings, attempt.engine)
    attempt.say(f"{attempt.event}: {target.commit[:12]} (image {target.image_id[7:19]}), was {_name(before.live)}")
    backup = _backup(attempt, target, before)
    try:
        tags.promote(attempt.settings, attempt.engine, target, before)
        start_verified(attempt, target)
    except (TradebotError, docker.errors.DockerException) as exc:
        _recover(attempt, target, before, exc)
    attempt.record(target, before, ledger.SUCCEEDED)
    tags.prune(attempt.settings, attempt.engine, attempt.say)
    attempt.say(f"{attempt.event}: {target.commit[:12]} is live, healthy and verified")
    previous = before.live.commit if before.live else ""
    return Release(target.commit, target.image_id, target.code_digest, previous, backup)


def _backup(attempt: Attempt, target: ReleaseImage, before: tags.LiveTags) -> str | None:
    """Back up the state volume before any container is touched; a failure changes nothing else."""
    settings, engine = attempt.settings, attempt.engine
    try:
        backup = volumes.backup_state(settings, engine, baseimage.resolve(settings, engine))
    except (TradebotError, docker.errors.DockerException) as exc:
        attempt.record(target, before, ledger.FAILED, cause_of(exc))
        raise
    attempt.say(
        f"{attempt.event}: state backed up into {backup}" if backup else f"{attempt.event}: no state to back up"
    )
    attempt.backup = backup or ""
    return backup


def start_verified(attempt: Attempt, image: ReleaseImage) -> None:
    compose_up(attempt, image)
    attempt.say(f"{attempt.event}: waiting for bot and worker to be healthy …")
    health.wait_healthy(attempt.settings, attempt.engine, image.image_id)
    report = verification.verify(attempt.settings, attempt.engine, attempt.repo)
    if not report.ok:
        raise VerifyFailed(report.release, report.summary())


def compose_up(attempt: Attempt, image: ReleaseImage) -> None:
    argv = compose.up(attempt.compose, attempt.settings)
    attempt.runner.run(
        argv,
        env=compose.env(attempt.settings, os.environ),
        input=attempt.repo.file_at(image.commit, "docker-compose.yml"),
    )


def _recover(attempt: Attempt, target: ReleaseImage, before: tags.LiveTags, exc: Exception) -> None:
    """Put the earlier release back (or remove the failed services when there is none); always raises."""
    cause = cause_of(exc)
    if before.live is None:
        remove_services(attempt, target)
        tags.restore(attempt.settings, attempt.engine, before)
        attempt.record(target, before, ledger.FAILED, cause)
        raise DeployError(
            f"{attempt.event} of {target.commit[:12]} failed ({cause}); no earlier release, bot and worker removed",
            "fix the release, build and deploy again",
        ) from exc
    attempt.say(f"{attempt.event}: {cause}; rolling back to {before.live.commit[:12]} …")
    try:
        tags.restore(attempt.settings, attempt.engine, before)
        start_verified(attempt, before.live)
    except (TradebotError, docker.errors.DockerException) as again:
        attempt.record(target, before, ledger.FAILED, f"{cause}; rollback failed: {cause_of(again)}")
        raise DeployError(
            f"{attempt.event} of {target.commit[:12]} failed ({cause}) and rolling back failed too ({cause_of(again)})",
            "look at `docker compose ps` and the containers' logs; the state backup volume is untouched",
        ) from again
    attempt.record(target, before, ledger.ROLLED_BACK, cause)
    raise RolledBack(target.commit, cause, before.live.commit) from exc


def remove_services(attempt: Attempt, image: ReleaseImage, check: bool = False) -> None:
    """Stop and remove bot and worker (`compose rm --stop`: each gets its stop grace period to save)."""
    argv = compose.remove(attempt.compose, attempt.settings)
    compose_file = attempt.repo.file_at(image.commit, "docker-compose.yml")
    attempt.runner.run(argv, env=compose.env(attempt.settings, os.environ), input=compose_file, check=check)


def cause_of(exc: Exception) -> str:
    return exc.message if isinstance(exc, TradebotError) else f"Docker engine: {exc}"


def _name(image: ReleaseImage | None) -> str:
    return image.commit[:12] if image else "nothing"
