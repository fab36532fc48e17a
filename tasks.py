"""Operator tasks. Thin: parse options, call `deploy`, report.

`invoke --list` shows them; `invoke --help TASK` shows a task's options.
Settings come from the environment (see `deploy/config.py`).

Each task imports the parts of `deploy` it uses when it runs, not when invoke loads this file:
the Docker SDK, GitPython, testinfra and jinja2 cost more to import than `invoke status` may take,
and invoke reads every name of this module when it lists the tasks.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from invoke import Context, task

from deploy.config import Settings
from deploy.ids import short
from deploy.output.exitcodes import reported

if TYPE_CHECKING:
    import docker

    from deploy.procedures.trail import Trail

# Where the deploy task leaves the verify report it ended with, in the invoke run's shared configuration:
# in `invoke build deploy verify` the verify task shows it while the same containers still run the live
# image (`verify.still_runs`), instead of asking everything again.
VERIFIED = "tradebot_verified_by_deploy"


def connect(settings: Settings, plan: bool = False) -> docker.DockerClient:
    """The engine, once the helper containers a killed invoke of this deployment left are removed.

    Every command does it first (`deploy.engine.helpers.sweep`), except a plan: it changes nothing.
    """
    from deploy.engine import client, helpers

    engine = client.connect()
    if not plan:
        helpers.sweep(settings, engine)
    return engine


PLAN_HELP = (
    "print the live state (release, containers, state file, lock, newest backup), the exact steps, what stops it "
    "and the way back; change nothing"
)
JSON_HELP = (
    "print ONE JSON document on stdout (progress goes to stderr): ok, commit, image_id, previous, backup, "
    "verify, steps, report; on failure also error, next, exit_code"
)


@task(name="base-image")
@reported
def base_image(c: Context) -> None:
    """Make sure the base image is present: pull it, or build it offline with debootstrap."""
    from deploy.engine import baseimage, runner

    settings = Settings.from_env()
    baseimage.ensure(settings, connect(settings), runner.Runner())


@task(help={"json": "print the report as JSON: {ok, release, head_ahead, points, checks}"})
@reported
def verify(c: Context, json: bool = False) -> None:
    """Prove the live release runs exactly its commit: the digest of trading/ at every point, and container checks."""
    from deploy import verify as verification
    from deploy.engine import git as gitrepo
    from deploy.procedures.procedure import verify_failed

    settings = Settings.from_env()
    client, deployed = connect(settings), c.config.get(VERIFIED)
    if verification.still_runs(deployed, settings, client):  # `invoke build deploy verify`: verified once
        print(f"verify: as the deploy before it verified {short(deployed.release)}: it runs unchanged", file=sys.stderr)
        report = deployed
    else:
        report = verification.verify(settings, client, gitrepo.Repository(settings.repo))
    print(verification.output(report, as_json=json))
    if not report.ok:
        raise verify_failed(report.release, report.summary())


@task(help={"json": "print the status as JSON: {deployed, project, release, containers, bot}"})
@reported
def status(c: Context, json: bool = False) -> None:
    """Show the live release (commit, image, built/deployed), its containers and the bot's heartbeat."""
    from deploy.steps import status as statusreport

    settings = Settings.from_env()
    print(statusreport.output(statusreport.status(settings, connect(settings)), as_json=json))


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
    from deploy.engine import git as gitrepo
    from deploy.procedures import build as building

    settings = Settings.from_env()
    building.build(settings, connect(settings), gitrepo.Repository(settings.repo), rev=rev, allow_dirty=allow_dirty)


@task(
    help={
        "rev": "the commit whose image to deploy (default HEAD; build it first)",
        "force": "deploy an image built from a dirty working tree",
        "plan": PLAN_HELP,
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
    from deploy.engine import git as gitrepo
    from deploy.procedures import deploy as deploying
    from deploy.procedures.trail import Trail

    settings = Settings.from_env()
    repo = gitrepo.Repository(settings.repo)
    if plan:
        deploying.plan(settings, connect(settings, plan), repo, rev=rev, force=force, fresh_state=fresh_state)
        return
    trail = Trail()
    deploying.deploy(settings, connect(settings), repo, rev=rev, force=force, fresh_state=fresh_state, trail=trail)
    c.config[VERIFIED] = trail.verify


@task(
    help={
        "to": "the commit to go back to (default: the previous release, tagged <project>:previous)",
        "json": JSON_HELP,
        "plan": PLAN_HELP,
    }
)
@reported
def rollback(c: Context, to: str = "", json: bool = False, plan: bool = False) -> None:
    """Make an earlier release live again: retag its image, recreate bot and worker together, wait healthy, verify."""
    from deploy.engine import git as gitrepo
    from deploy.procedures import rollback as rolling_back
    from deploy.procedures.trail import Trail

    settings, trail = Settings.from_env(), Trail()
    if plan:
        repo = gitrepo.Repository(settings.repo)
        rolling_back.plan(settings, connect(settings, plan=True), repo, to=to or None)
        return
    work = partial(_rollback, settings, to, trail, _say(json))
    _run(work, trail, settings, json)


def _rollback(settings: Settings, to: str, trail: Trail, say: Callable[[str], None]) -> None:
    from deploy.engine import git as gitrepo
    from deploy.procedures import rollback as rolling_back

    repo = gitrepo.Repository(settings.repo)
    trail.commit = repo.commit(to).sha if to else ""
    rolling_back.rollback(settings, connect(settings), repo, to=to or None, say=say, trail=trail)


@task(
    help={
        "rev": "the commit to release (default HEAD)",
        "allow-dirty": "build despite uncommitted changes (needs --force to deploy)",
        "force": "deploy an image built from a dirty working tree",
        "json": JSON_HELP,
    }
)
@reported
def release(c: Context, rev: str = "HEAD", allow_dirty: bool = False, force: bool = False, json: bool = False) -> None:
    """Build, deploy and verify one commit: `invoke build deploy verify` in one task."""
    from deploy.procedures.trail import Trail

    settings, trail = Settings.from_env(), Trail()
    work = partial(_release, settings, rev, allow_dirty, force, trail, _say(json))
    _run(work, trail, settings, json)


def _release(
    settings: Settings, rev: str, allow_dirty: bool, force: bool, trail: Trail, say: Callable[[str], None]
) -> None:
    from deploy.engine import git as gitrepo
    from deploy.procedures import build as building
    from deploy.procedures import deploy as deploying

    repo, client = gitrepo.Repository(settings.repo), connect(settings)
    trail.commit = repo.commit(rev).sha  # resolved once: a new commit cannot slip in between
    with trail.step(f"build {short(trail.commit)}"):
        building.build(settings, client, repo, rev=trail.commit, allow_dirty=allow_dirty, say=say)
    deploying.deploy(settings, client, repo, rev=trail.commit, force=force, say=say, trail=trail)  # verifies too


def _run(work: Callable[[], None], trail: Trail, settings: Settings, json: bool) -> None:
    from deploy.procedures import trail as trails

    if json:
        trails.print_document(trail, settings.meta_volume, work)
    else:
        work()


def _say(json: bool) -> Callable[[str], None]:
    """Progress: on stdout, or on stderr when stdout carries the JSON document."""
    return partial(print, file=sys.stderr, flush=True) if json else print


@task(help={"json": "print the ledger as JSON lines, as stored"})
@reported
def releases(c: Context, json: bool = False) -> None:
    """Show the release ledger kept on the engine: every deploy, rollback and restore attempt, its outcome and cause."""
    from deploy.records import ledger

    settings = Settings.from_env()
    client = connect(settings)
    carried = ledger.carry_over(settings, client)
    if carried:
        print(f"carried {carried} entries of the local ledger over to the engine", file=sys.stderr)
    entries = ledger.read(settings, client)
    print("\n".join(entry.to_json() for entry in entries) if json else ledger.table(entries))


@task(
    auto_shortflags=False,  # -h stays help, not --html
    help={
        "release": "the report of this release (a commit, tag or branch; default: the newest report)",
        "html": "a self-contained HTML page (timeline of the steps, digest table) instead of Markdown",
        "out": "write it to this file instead of stdout",
    },
)
@reported
def report(c: Context, release: str = "", html: bool = False, out: str = "") -> None:
    """Show the report of the newest deploy, rollback or restore (or of --release): who, when, what changed, intact?"""
    from deploy.engine import git as gitrepo
    from deploy.procedures import report as reports

    settings = Settings.from_env()
    chosen = reports.newest(settings, connect(settings), gitrepo.Repository(settings.repo), release or None)
    text = reports.html(chosen) if html else reports.markdown(chosen)
    if out:
        Path(out).write_text(text)
        print(f"report of {chosen.entry.event} {short(chosen.entry.commit)} written to {out}")
    else:
        print(text, end="")


@task
@reported
def unlock(c: Context) -> None:
    """Remove the deploy lock of a deploy that died on another machine, naming the holder removed."""
    from deploy.steps import lock

    settings = Settings.from_env()
    removed = lock.unlock(settings, connect(settings))
    if removed is None:
        print(f"no deploy lock: {settings.lock_name} does not exist")
    else:
        print(f"removed {settings.lock_name}, held by {removed.describe()} on {removed.host} since {removed.since}")


@task(help={"json": "print the backups as JSON: [{name, created}], newest first"})
@reported
def backups(c: Context, json: bool = False) -> None:
    """List the state volume's backups, newest first (each deploy, rollback and restore makes one)."""
    from deploy.steps import backups

    settings = Settings.from_env()
    print(backups.output(backups.listed(settings, connect(settings)), as_json=json))


@task(
    help={
        "backup": "the backup volume to restore (default: the newest; `invoke backups` lists them)",
        "plan": PLAN_HELP,
    }
)
@reported
def restore(c: Context, backup: str = "", plan: bool = False) -> None:
    """Put a state backup back: stop bot and worker, keep the current state as a backup, copy, start, verify.

    When the live release does not come up healthy on it, the state from before is put back (non-zero exit).
    """
    from deploy.engine import git as gitrepo
    from deploy.procedures import restore as restoring

    settings = Settings.from_env()
    procedure = restoring.plan if plan else restoring.restore
    procedure(settings, connect(settings, plan), gitrepo.Repository(settings.repo), name=backup or None)


@task(
    name="volume-rebuild",
    iterable=["keep"],
    help={
        "legacy": "the legacy volume holding code and state together (only ever read)",
        "plan": "print the live state (release, containers, state file, lock, newest backup; the legacy volume's "
        "containers, state file and newest backup), the inventory, the drift, the exact steps, what stops it and the "
        "way back; change nothing",
        "keep": "also carry this unknown file (or the unknown files below this directory); repeatable",
        "force": "replace a state volume that already holds state (it is backed up and proven first)",
        "rev": "the commit whose volumes/layout.toml applies and whose trading/ the drift compares with (default HEAD)",
    },
)
@reported
def volume_rebuild(
    c: Context, legacy: str, plan: bool = False, keep: list[str] | None = None, force: bool = False, rev: str = "HEAD"
) -> None:
    """Split a legacy volume: back it up whole, carry its state and secrets into <project>_state, report drift.

    Every step is proven before the next; run it again after an interruption to finish it.
    """
    from deploy import rebuild as rebuilding
    from deploy.engine import git as gitrepo

    settings = Settings.from_env()
    repo = gitrepo.Repository(settings.repo)
    if plan:
        rebuilding.show_plan(settings, connect(settings, plan=True), repo, legacy, keep or [], force=force, rev=rev)
    else:
        rebuilding.rebuild(settings, connect(settings), repo, legacy, keep or [], force=force, rev=rev)


@task(name="volume-retire", help={"legacy": "the legacy volume to remove"})
@reported
def volume_retire(c: Context, legacy: str) -> None:
    """Remove a legacy volume once a proven backup exists and the live release runs verified on the new state."""
    from deploy import rebuild as rebuilding
    from deploy.engine import git as gitrepo

    settings = Settings.from_env()
    rebuilding.retire(settings, connect(settings), gitrepo.Repository(settings.repo), legacy)


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
