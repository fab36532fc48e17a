"""The tasks that make a release live and prove it: build, deploy, verify, release, rollback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from invoke import Context, task

from deploy import config
from deploy.cli import invocation
from deploy.cli.invocation import connect
from deploy.config import Settings
from deploy.errors import first_of
from deploy.ids import short
from deploy.output import render
from deploy.output.exitcodes import reported
from deploy.output.progress import Voice

if TYPE_CHECKING:
    from deploy.engine.git import Repository
    from deploy.procedures.trail import Trail

# Where the deploy task leaves the verify report it ended with, in the invoke run's shared configuration:
# in `invoke build deploy verify` the verify task shows it while the same containers still run the live
# image (`verify.still_runs`), instead of asking everything again.
VERIFIED = "tradebot_verified_by_deploy"

PLAN_HELP = (
    "print the live state (release, containers, state file, lock, newest backup), the exact steps, what stops it "
    "and the way back; change nothing"
)
STOP_FIRST_HELP = (
    "stop the running bot and worker before the new ones start, even where they could stand by beside them "
    "(for a compose change Compose cannot make beside running containers: a changed network, say)"
)
VERBOSE_HELP = "every line: each step also when it starts, the build's Dockerfile steps, every point and check"
JSON_HELP = (
    "print ONE JSON document on stdout (progress goes to stderr): ok, commit, image_id, previous, backup, "
    "verify, steps, report; on failure also error, next, exit_code"
)


@task(help={"json": "print the report as JSON: {ok, release, head_ahead, points, checks}", "verbose": VERBOSE_HELP})
@reported
def verify(c: Context, json: bool = False, verbose: bool = False) -> None:
    """Prove the live release runs exactly its commit: the digest of trading/ at every point, and container checks."""
    from deploy import verify as verification
    from deploy.engine import git as gitrepo
    from deploy.procedures.procedure import verify_failed

    settings = invocation.settings(c)
    client, deployed = connect(settings), c.config.get(VERIFIED)
    if verification.still_runs(deployed, settings, client):  # `invoke build deploy verify`: verified once
        print(f"verify: as the deploy before it verified {short(deployed.release)}: it runs unchanged", file=sys.stderr)
        report = deployed
    else:
        report = verification.verify(settings, client, gitrepo.Repository(settings.repo))
    print(verification.output(report, as_json=json, verbose=verbose))
    if not report.ok:
        raise verify_failed(report.release, report.summary())


@task(
    help={
        "rev": "the commit to build (default HEAD)",
        "allow-dirty": "build although trading/, Dockerfile or docker-compose.yml have uncommitted changes "
        "(the image is still the commit's, tagged <sha>-dirty; deploy refuses it without --force)",
        "verbose": VERBOSE_HELP,
    }
)
@reported
def build(c: Context, rev: str = "HEAD", allow_dirty: bool = False, verbose: bool = False) -> None:
    """Build the release image <project>:<commit> from the committed tree (reused when it exists)."""
    from deploy.engine import git as gitrepo
    from deploy.procedures import build as building

    settings = invocation.settings(c)
    repo, say = gitrepo.Repository(settings.repo), Voice(print, verbose)
    building.build(settings, connect(settings), repo, rev=rev, allow_dirty=allow_dirty, say=say)


@task(
    help={
        "rev": "the commit whose image to deploy (default HEAD; build it first)",
        "force": "deploy an image built from a dirty working tree",
        "plan": PLAN_HELP,
        "fresh-state": "start a new, empty state although this deployment released before and its state volume "
        "is gone (without it, such a deploy is refused: `invoke restore` puts a backup back)",
        "stop-first": STOP_FIRST_HELP,
        "verbose": VERBOSE_HELP,
    }
)
@reported
def deploy(
    c: Context,
    rev: str = "HEAD",
    force: bool = False,
    plan: bool = False,
    fresh_state: bool = False,
    stop_first: bool = False,
    verbose: bool = False,
) -> None:
    """Preflight, back up state, make the commit's image live, hand bot and worker over by standby, verify.

    Nothing stops when the commit's compose file, the runtime settings or a missing state volume fail the
    preflight, or when the new bot and worker do not stand by beside the running ones. A release that fails
    after it took over is rolled back by itself (non-zero exit, naming the cause).
    """
    from deploy.engine import git as gitrepo
    from deploy.procedures import deploy as deploying
    from deploy.procedures.trail import Trail

    settings = invocation.settings(c)
    repo, say = gitrepo.Repository(settings.repo), Voice(print, verbose)
    if warning := _not_deployed(repo, rev):
        say(warning)
    if plan:
        deploying.plan(settings, connect(settings, plan), repo, rev=rev, force=force, fresh_state=fresh_state)
        print(f"settings the containers would get: {_settings_used()}")
        return
    say(f"deploy: with {_settings_used()}")
    render.warm("verify.txt.j2")  # the verify after it (`invoke build deploy verify`) prints its report at once
    trail = Trail()
    deploying.deploy(
        settings,
        connect(settings),
        repo,
        rev=rev,
        force=force,
        fresh_state=fresh_state,
        trail=trail,
        say=say,
        stop_first=stop_first,
    )
    c.config[VERIFIED] = trail.verify


@task(
    help={
        "to": "the commit to go back to (default: the previous release, tagged <project>:previous)",
        "json": JSON_HELP,
        "plan": PLAN_HELP,
        "stop-first": STOP_FIRST_HELP,
        "verbose": VERBOSE_HELP,
    }
)
@reported
def rollback(
    c: Context, to: str = "", json: bool = False, plan: bool = False, stop_first: bool = False, verbose: bool = False
) -> None:
    """Make an earlier release live again: retag its image, hand bot and worker over (or stop first), verify."""
    from deploy.engine import git as gitrepo
    from deploy.procedures import rollback as rolling_back
    from deploy.procedures.trail import Trail

    settings, trail = invocation.settings(c), Trail()
    if plan:
        repo = gitrepo.Repository(settings.repo)
        rolling_back.plan(settings, connect(settings, plan=True), repo, to=to or None)
        return
    work = partial(_rollback, settings, to, trail, _say(json, verbose), stop_first)
    _run(work, trail, settings, json)


def _rollback(settings: Settings, to: str, trail: Trail, say: Callable[[str], None], stop_first: bool) -> None:
    from deploy.engine import git as gitrepo
    from deploy.procedures import rollback as rolling_back

    repo = gitrepo.Repository(settings.repo)
    trail.commit = repo.commit(to).sha if to else ""
    rolling_back.rollback(settings, connect(settings), repo, to=to or None, say=say, trail=trail, stop_first=stop_first)


@task(
    help={
        "rev": "the commit to release (default HEAD)",
        "allow-dirty": "build despite uncommitted changes (needs --force to deploy)",
        "force": "deploy an image built from a dirty working tree",
        "json": JSON_HELP,
        "verbose": VERBOSE_HELP,
    }
)
@reported
def release(
    c: Context,
    rev: str = "HEAD",
    allow_dirty: bool = False,
    force: bool = False,
    json: bool = False,
    verbose: bool = False,
) -> None:
    """Build, deploy and verify one commit: `invoke build deploy verify` in one task."""
    from deploy.procedures.trail import Trail

    settings, trail = invocation.settings(c), Trail()
    work = partial(_release, settings, rev, allow_dirty, force, trail, _say(json, verbose))
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


def _settings_used() -> str:
    """The runtime settings of this shell, as a deploy passes them to the containers (secrets masked)."""
    used = config.runtime(os.environ)
    return config.shown(used) + (" (every other setting at its default)" if used else "")


def _not_deployed(repo: Repository, rev: str) -> str:
    """A warning when `rev` is HEAD and the working tree has uncommitted changes: a deploy takes the commit only."""
    dirty, commit = repo.dirty_paths(), repo.commit(rev).sha
    if not dirty or commit != repo.commit("HEAD").sha:
        return ""
    return f"deploy: uncommitted changes in {first_of(dirty, 5)} are not deployed (the release is {short(commit)})"


def _run(work: Callable[[], None], trail: Trail, settings: Settings, json: bool) -> None:
    from deploy.procedures import trail as trails

    if json:
        trails.print_document(trail, settings.meta_volume, work)
    else:
        work()


def _say(json: bool, verbose: bool) -> Voice:
    """Progress: on stdout, or on stderr when stdout carries the JSON document."""
    return Voice(partial(print, file=sys.stderr, flush=True) if json else print, verbose)
