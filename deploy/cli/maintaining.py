"""The tasks that look after the deployment's state and machinery: restore, remove, unlock, the base image, legacy
volumes."""

from __future__ import annotations

from invoke import Context, task

from deploy.cli import invocation
from deploy.cli.invocation import connect
from deploy.cli.releasing import PLAN_HELP, VERBOSE_HELP
from deploy.output.exitcodes import reported
from deploy.output.progress import Voice


@task(name="base-image")
@reported
def base_image(c: Context) -> None:
    """Make sure the base image is present: pull it, or build it offline with debootstrap."""
    from deploy.engine import baseimage, runner

    settings = invocation.settings(c)
    baseimage.ensure(settings, connect(settings), runner.Runner())


@task
@reported
def unlock(c: Context) -> None:
    """Remove the deploy lock of a deploy that died on another machine, naming the holder removed."""
    from deploy.steps import lock

    settings = invocation.settings(c)
    removed = lock.unlock(settings, connect(settings))
    if removed is None:
        print(f"no deploy lock: {settings.lock_name} does not exist")
    else:
        print(f"removed {settings.lock_name}, held by {removed.describe()} on {removed.host} since {removed.since}")


@task(
    help={
        "backup": "the backup volume to restore (default: the newest; `invoke backups` lists them)",
        "plan": PLAN_HELP,
        "verbose": VERBOSE_HELP,
    }
)
@reported
def restore(c: Context, backup: str = "", plan: bool = False, verbose: bool = False) -> None:
    """Put a state backup back: stop bot and worker, keep the current state as a backup, copy, start, verify.

    When the live release does not come up healthy on it, the state from before is put back (non-zero exit).
    """
    from deploy.engine import git as gitrepo
    from deploy.procedures import restore as restoring

    settings = invocation.settings(c)
    procedure = restoring.plan if plan else restoring.restore
    repo = gitrepo.Repository(settings.repo)
    procedure(settings, connect(settings, plan), repo, name=backup or None, say=Voice(print, verbose))


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
        "verbose": VERBOSE_HELP,
    },
)
@reported
def volume_rebuild(
    c: Context,
    legacy: str,
    plan: bool = False,
    keep: list[str] | None = None,
    force: bool = False,
    rev: str = "HEAD",
    verbose: bool = False,
) -> None:
    """Split a legacy volume: back it up whole, carry its state and secrets into <project>_state, report drift.

    Every step is proven before the next; run it again after an interruption to finish it.
    """
    from deploy import rebuild as rebuilding
    from deploy.engine import git as gitrepo

    settings = invocation.settings(c)
    repo = gitrepo.Repository(settings.repo)
    if plan:
        rebuilding.show_plan(settings, connect(settings, plan=True), repo, legacy, keep or [], force=force, rev=rev)
    else:
        say = Voice(print, verbose)
        rebuilding.rebuild(settings, connect(settings), repo, legacy, keep or [], force=force, rev=rev, say=say)


@task(name="volume-retire", help={"legacy": "the legacy volume to remove", "verbose": VERBOSE_HELP})
@reported
def volume_retire(c: Context, legacy: str, verbose: bool = False) -> None:
    """Remove a legacy volume once a proven backup exists and the live release runs verified on the new state."""
    from deploy import rebuild as rebuilding
    from deploy.engine import git as gitrepo

    settings = invocation.settings(c)
    rebuilding.retire(settings, connect(settings), gitrepo.Repository(settings.repo), legacy, say=Voice(print, verbose))


@task(
    help={
        "state": "also remove the state volume, after a final backup that is kept (restore brings it back)",
        "backups": "also remove the state volume's older backups (with --state the final one stays)",
        "plan": "print what it would stop, untag and remove; change nothing",
        "verbose": VERBOSE_HELP,
    }
)
@reported
def remove(c: Context, state: bool = False, backups: bool = False, plan: bool = False, verbose: bool = False) -> None:
    """Take the deployment off the engine: stop and remove bot and worker, untag its release images.

    Its state volume and backups stay unless asked for; the ledger and the reports always stay.
    """
    from deploy.procedures import remove as removing

    settings = invocation.settings(c)
    procedure = removing.plan if plan else removing.remove
    procedure(settings, connect(settings, plan), state=state, old_backups=backups, say=Voice(print, verbose))
