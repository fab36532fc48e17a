"""The fleet's tasks: fleet-status, fleet-verify, fleet-release, fleet-move: the members of the fleet file."""

from __future__ import annotations

import sys
from functools import partial

from invoke import Context, task

from deploy.cli import invocation
from deploy.output.exitcodes import reported
from deploy.output.progress import Say


def _say(json: bool) -> Say:
    """Progress: on stdout, or on stderr when stdout carries the JSON document."""
    return partial(print, file=sys.stderr, flush=True) if json else partial(print, flush=True)


@task(
    name="fleet-status",
    help={"json": "print one JSON document: {ok, fleet, seconds, members: [{member, engine, status, lock, ...}]}"},
)
@reported
def fleet_status(c: Context, json: bool = False) -> None:
    """Every member of the fleet file at once, each within its timeout: live commit, code digest and layer, health,
    heartbeat, deploy lock, last ledger entry; a member that does not answer in time is named unreachable."""
    from deploy.fleet import roster
    from deploy.fleet import status as fleetstatus

    settings = invocation.settings(c)
    found = fleetstatus.collect(roster.load(settings.fleet), invocation.environ(c), settings.repo)
    print(fleetstatus.output(found, as_json=json))
    fleetstatus.refuse_unanswered(found)


@task(
    name="fleet-verify",
    help={"json": "print one JSON document: {ok, fleet, point, members: [{member, ok, facts, verify, ...}]}"},
)
@reported
def fleet_verify(c: Context, json: bool = False) -> None:
    """Every member's verify at once, and the fleet's point: every member runs one commit with one code digest and
    one code layer. Exit 0 only when all of it holds."""
    from deploy.fleet import roster
    from deploy.fleet import verify as fleetverify

    settings = invocation.settings(c)
    found = fleetverify.collect(roster.load(settings.fleet), invocation.environ(c), settings.repo)
    print(fleetverify.output(found, as_json=json))
    fleetverify.refuse_unverified(found)


@task(
    name="fleet-release",
    help={
        "rev": "the commit to release on every member (default HEAD)",
        "json": "print one JSON document: {ok, commit, stopped_at, members: [{member, outcome, image, report}]}; "
        "on failure also error, next, exit_code",
    },
)
@reported
def fleet_release(c: Context, rev: str = "HEAD", json: bool = False) -> None:
    """Build the commit on each member (load it where build = false), then release one member at a time in the
    fleet file's order; the first failure stops the fleet (that member rolled back by itself, the rest untouched)."""
    from deploy.engine import git as gitrepo
    from deploy.fleet import release as fleetrelease
    from deploy.fleet import roster

    settings = invocation.settings(c)
    repo, fleet = gitrepo.Repository(settings.repo), roster.load(settings.fleet)
    found = fleetrelease.release(fleet, invocation.environ(c), repo, rev, _say(json))
    print(fleetrelease.output(found, as_json=json))
    error = fleetrelease.stopped_error(found)
    if error is not None:
        raise error


@task(
    name="fleet-move",
    help={
        "member": "the member of the fleet file to move",
        "to": "the engine it moves to: unix:///path/docker.sock or ssh://user@host[:port]",
        "json": "print one JSON document: {ok, member, to, commit, final_backup, carried, steps, deploy}",
    },
)
@reported
def fleet_move(c: Context, member: str, to: str, json: bool = False) -> None:
    """Move one member to another engine, by hand: stop it, keep a final backup, carry its state and ledger to the
    new engine through the archive API (proven identical), deploy it there and verify; its old engine is marked
    moved, so nothing starts it there again."""
    from deploy.fleet import children, roster
    from deploy.fleet import move as moving

    settings = invocation.settings(c)
    answer = moving.move(roster.load(settings.fleet), invocation.environ(c), settings.repo, member, to)
    print(moving.output(answer, member, to, as_json=json))
    if not answer.ok:
        raise children.error_of(answer)
