"""Finishing what a killed deploy, rollback or restore left: run by the next changing command, under the lock.

Every attempt writes a journal file before its first step and its ledger entry after (`deploy.procedures.procedure`,
one `attempt` id); a journal file without its ledger entry is an interrupted attempt. Rules:

- Helper and probe containers are labelled with the project and their creator; their creator removes
  them, and `helpers.sweep` (under the lock: all but a live creator's) whatever a killed creator left,
  so none keeps a volume in use.
- An interrupted attempt whose release is live, runs in both services healthy, and verifies now (with the
  settings it was started with) is completed: recorded `succeeded` ("completed by the next command").
  A verified release is never undone; `invoke rollback` is there for that. A release whose ledger
  write failed (`NotRecorded`) is recorded so.
- Any other interrupted attempt is undone: an interrupted restore puts back the state it kept first (when
  it kept one); then the newest release that succeeded (by the ledger) is tagged live, the one that
  succeeded before it previous, and — unless both services already run it healthy — both are
  recreated from it, with its recorded settings, and verified. Its end is recorded as `failed`
  ("interrupted"), so what runs, `:live` and the ledger agree again. With no success at all, the
  services are removed and the tags dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from deploy import verify as verification
from deploy.config import SERVICES, with_runtime
from deploy.engine import baseimage, helpers
from deploy.errors import ImageMissing
from deploy.ids import short
from deploy.procedures import procedure, services
from deploy.records import journal, ledger
from deploy.steps import backups, handover, health, roles, startup, tags
from deploy.steps.images import ReleaseImage
from deploy.steps.tags import LiveTags


def finish_interrupted(d: procedure.Deployment) -> None:
    """Clean up after a killed attempt and undo it; see the module docstring. Nothing to do: returns at once."""
    if helpers.sweep(d.settings, d.engine, everyone=True):
        d.say("removed helper containers a killed run left behind")
    entries = d.records.entries()
    pending = journal.unfinished(d.records.started(), entries)
    if not pending:
        return
    if _completed(d, pending[-1]):
        return
    for entry in pending:
        d.say(f"an interrupted {entry.event} of {short(entry.commit)} (started {entry.started_at} by {entry.by}) …")
        _put_kept_state_back(d, entry)
    successes = [entry for entry in entries if entry.outcome == ledger.SUCCEEDED and entry.is_release]
    runs = _run_last_success(d, successes, pending[-1])
    for entry in pending:
        cause = f"interrupted before it finished; undone by the next run ({runs} runs)"
        d.records.append(_ended(entry, ledger.FAILED, cause))
    d.say(f"the interrupted attempt is undone: {runs} runs")


def _put_kept_state_back(d: procedure.Deployment, entry: ledger.Entry) -> None:
    if entry.event == "restore" and entry.backup and backups.restorable(d.settings, d.engine, entry.backup):
        _remove_services(d, entry)
        helper = baseimage.resolve(d.settings, d.engine)
        put_back = procedure.Step(
            f"put the state from before ({entry.backup}) back",
            lambda: backups.restore_state(d.settings, d.engine, helper, entry.backup),
        )
        procedure.walk(d, "undo", [put_back])


def _remove_services(d: procedure.Deployment, entry: ledger.Entry) -> None:
    """Stop and remove bot and worker, through the compose file of the interrupted attempt's commit."""
    image = tags.get(d.engine, entry.image_id)
    if image is not None:
        procedure.walk(d, "undo", [services.remove_step(d, image, stop_timeout=services.FAILED_STOP_SECONDS)])


def _run_last_success(d: procedure.Deployment, successes: list[ledger.Entry], interrupted: ledger.Entry) -> str:
    """Make the newest successful release live and running; its short commit, or 'nothing'."""
    images = _distinct_images(d, reversed(successes))
    if not images:
        _remove_services(d, interrupted)
        tags.restore(d.settings, d.engine, LiveTags(None, None))
        return "nothing"
    live = images[0]
    tags.restore(d.settings, d.engine, LiveTags(live, images[1] if len(images) > 1 else None))
    _keep_one_each(d, live)
    if not all(_runs_healthy(d, live, service) for service in SERVICES):
        back = procedure.as_deployed(d, live, successes)
        procedure.walk(back, "undo", services.start_steps(back, live, stop_timeout=services.FAILED_STOP_SECONDS))
    return short(live.commit)


def _keep_one_each(d: procedure.Deployment, live: ReleaseImage) -> None:
    """After a killed handover: keep each service's oldest container of `live` (started again by id when it was
    stopped), remove every other container of the project by id (`FAILED_STOP_SECONDS` to stop)."""
    found = roles.of_project(d.settings, d.engine)
    kept = {s: next((c for c in found[s] if c.attrs.get("Image") == live.image_id), None) for s in SERVICES}
    doomed = [c.id or "" for s in SERVICES for c in found[s] if c is not kept[s]]
    if not doomed:
        return
    stopped = [c.id or "" for c in kept.values() if c is not None and c.status != "running"]
    remove = procedure.Step(
        f"remove the containers of the interrupted attempt ({services.FAILED_STOP_SECONDS} s to stop)",
        lambda: handover.remove_all(d.engine, doomed, services.FAILED_STOP_SECONDS),
    )
    start = procedure.Step(
        f"start the stopped bot and worker of {short(live.commit)} again and wait until they run",
        lambda: _start_again(d, live, stopped),
        proves=True,
    )
    procedure.walk(d, "undo", [remove, *([start] if stopped else [])])


def _start_again(d: procedure.Deployment, live: ReleaseImage, stopped: list[str]) -> str:
    handover.start_all(d.engine, stopped)
    judged = startup.wait_release(d.settings, d.engine, live.image_id, live.code_digest, ran_before=True)
    return "; ".join(j.why for j in judged.values())


def _distinct_images(d: procedure.Deployment, newest_first: Iterable[ledger.Entry]) -> list[ReleaseImage]:
    found: list[ReleaseImage] = []
    for entry in newest_first:
        if len(found) == 2:
            break
        if entry.image_id in [image.image_id for image in found]:
            continue
        image = tags.get(d.engine, entry.image_id)
        if image is None:
            raise ImageMissing(
                f"image {short(entry.image_id)} of {short(entry.commit)} is not on the engine",
                "build it again and deploy it",
            )
        found.append(image)
    return found


def _runs_healthy(d: procedure.Deployment, image: ReleaseImage, service: str) -> bool:
    return health.current_verdict(d.settings, d.engine, service, image.image_id).status == health.HEALTHY


def _ended(entry: ledger.Entry, outcome: str, cause: str) -> ledger.Entry:
    return dataclasses.replace(entry, finished_at=ledger.now(), outcome=outcome, cause=cause)


def _completed(d: procedure.Deployment, last: ledger.Entry) -> bool:
    """Record `last` succeeded when its release is live, healthy and verifies now (earlier ones failed); whether so."""
    live = tags.get(d.engine, d.settings.live_image)
    if live is None or live.image_id != last.image_id or not all(_runs_healthy(d, live, s) for s in SERVICES):
        return False
    environ = with_runtime(d.environ, last.runtime) if last.runtime is not None else d.environ
    try:
        chosen = roles.one_each(d.settings, d.engine, live.image_id)
        if not verification.verify(d.settings, d.engine, d.repo, environ, chosen=chosen).ok:
            return False
    except procedure.FAILURES:
        return False
    done = "completed by the next command: it runs, healthy and verified"
    for entry in journal.unfinished(d.records.started(), d.records.entries())[:-1]:
        d.records.append(_ended(entry, ledger.FAILED, "interrupted; a later attempt went live"))
    d.records.append(_ended(last, ledger.SUCCEEDED, done))
    _keep_one_each(d, live)  # a killed handover: its old containers, stopped, are still there
    handover.rename(d.engine, d.settings, roles.one_each(d.settings, d.engine, live.image_id))
    what = f"{last.event} of {short(last.commit)}"
    d.say(f"the interrupted attempt is completed: the {what} is live, healthy and verified; recorded as succeeded")
    return True
