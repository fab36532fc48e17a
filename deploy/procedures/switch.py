"""What deploy and rollback share: the attempt, its steps, the switch, and the automatic rollback when it fails.

    prepare: preflight (`deploy.procedures.preflight`: compose file, runtime settings, state volume)
         → back up the state volume
    switch:  tag the old live image `:previous` and this one `:live` → recreate bot and worker
             in ONE compose call → wait until both are healthy → verify
             (a standby handover instead where both releases can: `deploy.procedures.handover`; its
             backup runs beside the standby start, and the old bot stops only once it is made)
    finish:  prune release images → ledger (one entry, its report holding every step)

The commit's compose file is resolved once as the attempt begins (`preflight.resolving`), and what
verify judges the release by that no container changes is read meanwhile (`verify.ahead`), so the
verify after the switch waits only on the containers; the release record a success keeps is made
meanwhile too (`releaserecord.ahead`).

When a switch step fails, what the new containers wrote last is kept (said, and recorded with the
attempt), the release that was live is tagged live again, both services are recreated from it,
checked, and `RolledBack` is raised (outcome `rolled_back`, exit 7); when that fails too,
`RollbackFailed` (`rollback_failed`, exit 11); with no earlier release the failed services are
removed and `DeployError` raised (`failed`, exit 7). A prepare step that fails is `refused`.
Every attempt that got past choosing its image is recorded in the ledger.
`plan_of` names the same steps and changes nothing.

Each attempt records the runtime settings (`config.runtime`) it ran with; a rollback, by hand or
after a failure, runs its release with the settings that release was deployed with, not the
shell's current ones (an older ledger entry without them: the current ones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from deploy import verify as verification
from deploy.config import SERVICES, Settings, runtime
from deploy.engine import baseimage
from deploy.errors import DeployError, RollbackFailed, RolledBack
from deploy.ids import short
from deploy.policy import compose_file
from deploy.procedures import handover as handing
from deploy.procedures import plan as planning
from deploy.procedures import preflight, releaserecord
from deploy.procedures.handover import Handover
from deploy.procedures.plan import Plan
from deploy.procedures.procedure import (
    FAILURES,
    Attempt,
    Deployment,
    Procedure,
    Step,
    as_deployed,
    cause_of,
    record,
    run,
    walk,
)
from deploy.procedures.services import (
    FAILED_STOP_SECONDS,
    keep_evidence,
    keep_evidence_of,
    remove_step,
    start_steps,
    with_last_words,
)
from deploy.records import ledger
from deploy.steps import backups, health, snapshot, tags
from deploy.steps.images import ReleaseImage
from deploy.steps.tags import LiveTags


def plan_of(d: Deployment, event: str, target: ReleaseImage, fresh_state: bool = False) -> str:
    attempt, settings = new_attempt(d, event, target), d.settings
    live = attempt.before.live
    h = handing.possible(d, target, live)
    stops = (
        "another deploy holds the deploy lock (it is named; nothing is changed)",
        "a preflight check fails: the compose file, the runtime settings, a missing state volume (nothing is changed)",
        preflight.policy_stop(d, target),
        f"backing up {settings.state_volume} fails (nothing else is changed"
        + ("; it runs beside the standby start, whose containers are removed)" if h else ")"),
        f"bot or worker exits, or makes no progress for {settings.start_stall:g} s (TRADEBOT_START_STALL), or is "
        f"not running after {settings.start_cap:g} s (TRADEBOT_START_CAP), or verify fails: "
        "the way back below",
    )
    recovery = (
        planning.recovery_lines(
            f"tag {short(live.commit)} as {settings.live_image} again",
            _way_back(as_deployed(d, live, d.records.entries()), live, h),
        )
        if live
        else planning.recovery_lines(
            "no earlier release: remove bot and worker", [remove_step(d, target, stop_timeout=FAILED_STOP_SECONDS)]
        )
    )
    found = Plan(
        event,
        f"of {short(target.commit)} (image {short(target.image_id)})",
        snapshot.capture(settings, d.engine, d.records),
        steps(d, target, attempt, fresh_state, h).steps,
        stops,
        recovery,
    )
    return planning.render(found)


def new_attempt(d: Deployment, event: str, target: ReleaseImage) -> Attempt:
    before = tags.live_tags(d.settings, d.engine)
    return Attempt(event, target, before, backups.next_backup(d.settings, d.engine) or "", runtime=runtime(d.environ))


def steps(
    d: Deployment,
    target: ReleaseImage,
    attempt: Attempt,
    fresh_state: bool = False,
    h: Handover | None = None,
    expected: Callable[[], verification.Expected] | None = None,
    resolved: Callable[[], compose_file.Views] | None = None,
) -> Procedure:
    """The attempt's steps: by standby handover when `h` (`handing.possible`), else stop first; `expected`:
    verify's side of `target`, read while they run (`verification.ahead`); `resolved`: its compose file
    (`preflight.resolving`)."""
    settings, engine = d.settings, d.engine
    released_before = preflight.released_before(d, attempt.before.live)
    checks = preflight.steps(d, target, released_before, fresh_state, h is not None, resolved)
    backup = Step(f"back up {settings.state_volume} into {attempt.backup}", lambda: _backup(d, attempt.backup))
    promote = Step(
        _promote_name(settings, target, attempt.before), lambda: _promote(d, target, attempt.before), proves=True
    )
    prune = Step(
        f"prune release images beyond the newest {settings.keep_releases}",
        lambda: tags.prune(settings, engine, d.say, d.records),
    )
    backing = (backup,) if attempt.backup else ()
    if h is not None:  # the backup beside the standby: the new containers do not touch the state before the switch
        standby = (promote, *handing.standby_steps(d, target, h))
        switching = tuple(handing.switch_steps(d, target, h, expected))
        return Procedure(tuple(checks), switching, (prune,), standby, backing)
    return Procedure((*checks, *backing), (promote, *start_steps(d, target, expected=expected)), (prune,))


def switch(
    d: Deployment, target: ReleaseImage, attempt: Attempt, fresh_state: bool = False, stop_first: bool = False
) -> Attempt:
    """Make `target` live by handover when both releases can (`handing.possible`), else stop first."""
    was = release_name(attempt.before.live)
    h = None if stop_first else handing.possible(d, target, attempt.before.live)
    how = "standby handover" if h else "stop first"
    d.say(f"{attempt.event}: {short(target.commit)} (image {short(target.image_id)}), was {was}, by {how}")
    # the compose file is resolved once, and what verify judges the release by that no container changes is read
    # while the attempt prepares and starts
    resolved = preflight.resolving(d, target)
    expected = verification.ahead(d.settings, d.engine, d.repo, target.image_id, d.environ, resolved, d.records)
    release = releaserecord.ahead(d, target, resolved)
    procedure = steps(d, target, attempt, fresh_state, h, expected, resolved)
    run(
        d,
        attempt,
        procedure,
        lambda exc: roll_back(d, target, attempt, exc, h),
        (lambda exc, beside: handing.discard(d, target, attempt, h, exc, beside)) if h else None,
        lambda: releaserecord.files(d, attempt, target, release),
    )
    d.say(f"{attempt.event}: {short(target.commit)} is live, healthy and verified")
    return attempt


def _backup(d: Deployment, name: str) -> None:
    """Back up the state volume before any container is touched; a failure changes nothing else."""
    backups.backup_state(d.settings, d.engine, baseimage.resolve(d.settings, d.engine), name=name)


def _promote_name(settings: Settings, target: ReleaseImage, before: LiveTags) -> str:
    name = f"tag {short(target.image_id)} ({short(target.commit)}) as {settings.live_image}"
    if before.live and before.live.image_id != target.image_id:
        name += f", {short(before.live.image_id)} ({short(before.live.commit)}) as {settings.previous_image}"
    return name


def _promote(d: Deployment, target: ReleaseImage, before: LiveTags) -> str:
    return tags.promote(d.settings, d.engine, target, before, d.records)


def roll_back(
    d: Deployment, target: ReleaseImage, attempt: Attempt, exc: Exception, h: Handover | None = None
) -> NoReturn:
    """Put the earlier release back (or remove the failed services when there is none); always raises.

    What the failed release's containers said is kept first (`keep_evidence`): the removal deletes their logs.
    After a handover (`h`) the old containers are started again by id (`handing.back_steps`).
    """
    kept = keep_evidence_of(d, h.new.values()) if h else keep_evidence(d, target.image_id)
    cause, before = with_last_words(cause_of(exc), kept), attempt.before
    if before.live is None:
        walk(d, attempt.event, [remove_step(d, target, stop_timeout=FAILED_STOP_SECONDS)])
        tags.restore(d.settings, d.engine, before)
        record(d, attempt, ledger.FAILED, cause)
        raise DeployError(
            f"{attempt.event} of {short(target.commit)} failed ({cause}); no earlier release, bot and worker removed",
            "fix the release, build and deploy again; `invoke report` shows its containers' last lines",
        ) from exc
    d.say(f"{attempt.event}: {cause}; rolling back to {short(before.live.commit)} …")
    try:
        tags.restore(d.settings, d.engine, before)
        back = as_deployed(d, before.live, d.records.entries())
        walk(back, "rollback", _way_back(back, before.live, h))
    except FAILURES as again:
        again_cause = with_last_words(cause_of(again), keep_evidence(d, before.live.image_id))
        record(d, attempt, ledger.ROLLBACK_FAILED, f"{cause}; rollback failed: {again_cause}")
        now = running_now(d)
        raise rollback_failed(
            target.commit, cause, before.live.commit, again_cause, now, attempt.backup, attempt.event
        ) from again
    record(d, attempt, ledger.ROLLED_BACK, cause)
    again = (
        "roll back to another release (`invoke rollback --to REV`)" if attempt.event == "rollback" else "deploy again"
    )
    raise RolledBack(
        f"{attempt.event} of {short(target.commit)} failed ({cause}); rolled back, "
        f"{short(before.live.commit)} runs again, verified",
        f"fix the release and {again}; `invoke report --release {short(target.commit)}` shows its containers' "
        "last lines",
        failed=target.commit,
        cause=cause,
        restored=before.live.commit,
    ) from exc


def _way_back(d: Deployment, live: ReleaseImage, h: Handover | None) -> list[Step]:
    """The old containers started again by id; when one is gone (or it stopped first), `live` recreated."""
    if h is not None and handing.old_ones_kept(d, h):
        return handing.back_steps(d, live, h)
    removed = [handing.remove_new(d, h)] if h is not None else []
    return [*removed, *start_steps(d, live, stop_timeout=FAILED_STOP_SECONDS)]


def rollback_failed(
    failed: str, cause: str, restored: str, again: str, now: str, backup: str, event: str = "deploy"
) -> RollbackFailed:
    """Both causes, what runs now, and where the state from before is."""
    state = (
        f"the state from before is in {backup}, untouched: if the state is what stops {short(restored)}, "
        f"`invoke restore --backup {backup}` puts it back under it"
        if backup
        else "there was no state to back up"
    )
    return RollbackFailed(
        f"{event} of {short(failed)} failed ({cause}) and rolling back to {short(restored)} failed too ({again}); "
        f"nothing verified runs; now: {now}",
        f"the last lines above (and `invoke report`) say why {short(restored)} does not start; {state}",
        failed=failed,
        cause=cause,
        restored=restored,
        again=again,
        now=now,
        backup=backup,
    )


def running_now(d: Deployment) -> str:
    """`bot of 3f2a… running, restarted 2 times, worker of 3f2a… running`: each service's release and state."""
    described = []
    for service in SERVICES:
        container = health.service_container(d.settings, d.engine, service)
        if container is None:
            described.append(f"{service} has no container")
            continue
        image = tags.get(d.engine, str(container.attrs.get("Image", "")))
        restarts = container.attrs.get("RestartCount", 0)
        again = f", restarted {restarts} times" if restarts else ""
        described.append(f"{service} of {release_name(image)} {container.status}{again}")
    return ", ".join(described)


def release_name(image: ReleaseImage | None) -> str:
    return short(image.commit) if image else "nothing"
