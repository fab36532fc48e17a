"""The tasks that only look: status, releases, report, backups, logs."""

from __future__ import annotations

import contextlib
import sys
from pathlib import PurePosixPath

from invoke import Context, task

from deploy.cli import invocation
from deploy.cli.invocation import connect
from deploy.ids import short
from deploy.output import files
from deploy.output.exitcodes import reported


@task(help={"json": "print the status as JSON: {deployed, project, release, containers, bot}"})
@reported
def status(c: Context, json: bool = False) -> None:
    """Show the live release (commit, image, built/deployed), its containers and the bot's heartbeat."""
    from deploy.steps import status as statusreport

    settings = invocation.settings(c)
    print(statusreport.output(statusreport.status(settings, connect(settings)), as_json=json))


@task(help={"json": "print the ledger as JSON lines, as stored"})
@reported
def releases(c: Context, json: bool = False) -> None:
    """Show the release ledger kept on the engine: every deploy, rollback and restore attempt, its outcome and cause."""
    from deploy.records import ledger

    settings = invocation.settings(c)
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
        "attempt": "the report of this attempt: the `report` of `release --json` or `rollback --json` "
        "(<project>_meta:reports/<id>.json, or its <id>)",
        "html": "a self-contained HTML page (timeline of the steps, digest table) instead of Markdown",
        "out": "write it to this file instead of stdout (refused when the file exists, unless --force)",
        "force": "with --out: replace the file when it exists",
    },
)
@reported
def report(
    c: Context, release: str = "", attempt: str = "", html: bool = False, out: str = "", force: bool = False
) -> None:
    """Show the report of the newest deploy, rollback or restore (or of --release): who, when, what changed, intact?"""
    from deploy.engine import git as gitrepo
    from deploy.procedures import report as reports

    settings = invocation.settings(c)
    target = files.checked(out, force) if out else None  # refused before the engine is asked
    engine = connect(settings)
    if attempt:
        chosen = reports.of_attempt(settings, engine, PurePosixPath(attempt.rpartition(":")[2]).stem)
    else:
        chosen = reports.newest(settings, engine, gitrepo.Repository(settings.repo), release or None)
    text = reports.html(chosen) if html else reports.markdown(chosen)
    if target is None:
        print(text, end="")
        return
    files.write(target, text)
    print(f"report of {chosen.entry.event} {short(chosen.entry.commit)} written to {target}")


@task(help={"json": "print the backups as JSON: [{name, created}], newest first"})
@reported
def backups(c: Context, json: bool = False) -> None:
    """List the state volume's backups, newest first (each deploy, rollback and restore makes one)."""
    from deploy.steps import backups

    settings = invocation.settings(c)
    print(backups.output(backups.listed(settings, connect(settings)), as_json=json))


@task(
    help={
        "service": "only this service's lines: bot or worker (default: both)",
        "follow": "keep showing new lines as they come, until the containers stop or Ctrl-C",
        "since": "only lines after this: 90s, 10m, 2h, 1d, or a time such as 2026-11-22T04:00:00",
    }
)
@reported
def logs(c: Context, service: str = "", follow: bool = False, since: str = "") -> None:
    """Show what bot and worker wrote (each line with its service and time), merged in time order."""
    from deploy.steps import logs as containerlogs

    settings = invocation.settings(c)
    with contextlib.suppress(KeyboardInterrupt):  # the operator stopped following: nothing failed
        containerlogs.show(settings, connect(settings), service, since, follow, print)
