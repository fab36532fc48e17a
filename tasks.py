"""Operator tasks. Thin: parse options, call `deploy`, report.

`invoke --list` shows them; `invoke --help TASK` shows a task's options.
Settings come from the environment (see `deploy/config.py`).
"""

from __future__ import annotations

import shlex
import sys

from invoke import Context, task

from deploy import baseimage, engine, ledger, lock, volumes
from deploy import build as building
from deploy import rebuild as rebuilding
from deploy import release as releasing
from deploy import restore as restoring
from deploy import status as statusreport
from deploy import verify as verification
from deploy.config import Settings
from deploy.errors import VerifyFailed
from deploy.exitcodes import reported
from deploy.git import Repository
from deploy.runner import Runner


@task(name="base-image")
@reported
def base_image(c: Context) -> None:
    """Make sure the base image is present: pull it, or build it offline with debootstrap."""
    settings = Settings.from_env()
    baseimage.ensure(settings, engine.client(), Runner())


@task(help={"json": "print the report as JSON: {ok, release, head_ahead, points, checks}"})
@reported
def verify(c: Context, json: bool = False) -> None:
    """Prove the live release runs exactly its commit: the digest of trading/ at every point, and container checks."""
    settings = Settings.from_env()
    report = verification.verify(settings, engine.client(), Repository(settings.repo))
    print(verification.output(report, as_json=json))
    if not report.ok:
        raise VerifyFailed(report.release, report.summary())


@task(help={"json": "print the status as JSON: {deployed, project, release, containers, bot}"})
@reported
def status(c: Context, json: bool = False) -> None:
    """Show the live release (commit, image, built/deployed), its containers and the bot's heartbeat."""
    settings = Settings.from_env()
    print(statusreport.output(statusreport.status(settings, engine.client()), as_json=json))


@task(
    help={
        "rev": "the commit to build (default HEAD)",
        "allow-dirty": "build although trading/, Dockerfile or docker-compose.yml have uncommitted changes "
        "(the image is still the commit's, tagged <sha>-dirty; deploy refuses it without --force)",
    }
)
@reported
def build(c: Context, rev: str = "HEAD", allow_dirty: bool = False) -> None:
    """Build the release image <project>:<commit> from the committed tree (reused when it exists)."""
    settings = Settings.from_env()
    building.build(settings, engine.client(), Repository(settings.repo), rev=rev, allow_dirty=allow_dirty)


@task(
    help={
        "rev": "the commit whose image to deploy (default HEAD; build it first)",
        "force": "deploy an image built from a dirty working tree",
        "plan": "print what would be done (the compose command included) and change nothing",
        "fresh-state": "start a new, empty state although this deployment released before and its state volume "
        "is gone (without it, such a deploy is refused: `invoke restore` puts a backup back)",
    }
)
@reported
def deploy(c: Context, rev: str = "HEAD", force: bool = False, plan: bool = False, fresh_state: bool = False) -> None:
    """Preflight, back up state, make the commit's image live, recreate bot and worker together, wait healthy, verify.

    Nothing stops when the commit's compose file, the runtime settings or a missing state volume fail the
    preflight. A release that fails health or verify is rolled back by itself (non-zero exit, naming the cause).
    """
    settings = Settings.from_env()
    procedure = releasing.plan if plan else releasing.deploy
    procedure(settings, engine.client(), Repository(settings.repo), rev=rev, force=force, fresh_state=fresh_state)


@task(help={"to": "the commit to go back to (default: the previous release, tagged <project>:previous)"})
@reported
def rollback(c: Context, to: str = "") -> None:
    """Make an earlier release live again: retag its image, recreate bot and worker together, wait healthy, verify."""
    settings = Settings.from_env()
    releasing.rollback(settings, engine.client(), Repository(settings.repo), to=to or None)


@task(
    help={
        "rev": "the commit to release (default HEAD)",
        "allow-dirty": "build despite uncommitted changes (needs --force to deploy)",
        "force": "deploy an image built from a dirty working tree",
    }
)
@reported
def release(c: Context, rev: str = "HEAD", allow_dirty: bool = False, force: bool = False) -> None:
    """Build, deploy and verify one commit: `invoke build deploy verify` in one task."""
    sha = Repository(Settings.from_env().repo).commit(rev).sha  # resolved once: a new commit cannot slip in between
    build(c, rev=sha, allow_dirty=allow_dirty)
    deploy(c, rev=sha, force=force)
    verify(c)


@task(help={"json": "print the ledger as JSON lines, as stored"})
@reported
def releases(c: Context, json: bool = False) -> None:
    """Show the release ledger kept on the engine: every deploy, rollback and restore attempt, its outcome and cause."""
    settings, client = Settings.from_env(), engine.client()
    carried = ledger.carry_over(settings, client)
    if carried:
        print(f"carried {carried} entries of the local ledger over to the engine", file=sys.stderr)
    entries = ledger.read(settings, client)
    print("\n".join(entry.to_json() for entry in entries) if json else ledger.table(entries))


@task
@reported
def unlock(c: Context) -> None:
    """Remove the deploy lock of a deploy that died on another machine, naming the holder removed."""
    settings = Settings.from_env()
    removed = lock.unlock(settings, engine.client())
    if removed is None:
        print(f"no deploy lock: {settings.lock_name} does not exist")
    else:
        print(f"removed {settings.lock_name}, held by {removed.describe()} on {removed.host} since {removed.since}")


@task(help={"json": "print the backups as JSON: [{name, created}], newest first"})
@reported
def backups(c: Context, json: bool = False) -> None:
    """List the state volume's backups, newest first (each deploy, rollback and restore makes one)."""
    settings = Settings.from_env()
    print(volumes.output(volumes.backups(settings, engine.client()), as_json=json))


@task(help={"backup": "the backup volume to restore (default: the newest; `invoke backups` lists them)"})
@reported
def restore(c: Context, backup: str = "") -> None:
    """Put a state backup back: stop bot and worker, keep the current state as a backup, copy, start, verify.

    When the live release does not come up healthy on it, the state from before is put back (non-zero exit).
    """
    settings = Settings.from_env()
    restoring.restore(settings, engine.client(), Repository(settings.repo), name=backup or None)


@task(
    name="volume-rebuild",
    iterable=["keep"],
    help={
        "legacy": "the legacy volume holding code and state together (only ever read)",
        "plan": "print the inventory, its classification, the target volume and the drift; change nothing",
        "keep": "also carry this unknown file (or the unknown files below this directory); repeatable",
        "force": "replace a state volume that already holds state (it is backed up and proven first)",
    },
)
@reported
def volume_rebuild(
    c: Context, legacy: str, plan: bool = False, keep: list[str] | None = None, force: bool = False
) -> None:
    """Split a legacy volume: back it up whole, carry its state and secrets into <project>_state, report drift.

    Every step is proven before the next; run it again after an interruption to finish it.
    """
    settings = Settings.from_env()
    repo = Repository(settings.repo)
    if plan:
        rebuilding.show_plan(settings, engine.client(), repo, legacy, keep or [], force=force)
    else:
        rebuilding.rebuild(settings, engine.client(), repo, legacy, keep or [], force=force)


@task(name="volume-retire", help={"legacy": "the legacy volume to remove"})
@reported
def volume_retire(c: Context, legacy: str) -> None:
    """Remove a legacy volume once a proven backup exists and the live release runs verified on the new state."""
    settings = Settings.from_env()
    rebuilding.retire(settings, engine.client(), Repository(settings.repo), legacy)


@task(
    help={
        "unit": "only the fast tests (no Docker engine, no multi-process runs)",
        "integration": "only the integration tests (real Docker engine and Compose)",
        "k": "pytest -k expression",
    }
)
def test(c: Context, unit: bool = False, integration: bool = False, k: str = "") -> None:
    """Run the test suite: unit, multi-process and integration tests against the real engine."""
    argv = [sys.executable, "-m", "pytest"]
    if unit:
        argv += ["-m", "not integration and not slow"]
    elif integration:
        argv += ["-m", "integration"]
    if k:
        argv += ["-k", k]
    c.run(shlex.join(argv), pty=False)
