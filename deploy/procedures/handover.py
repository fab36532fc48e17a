"""The deploy's switch by standby handover (`deploy.steps.handover`), and its ways back.

    standby  tag live → start the new bot and worker beside the running ones → wait until both stand
             by (code imported, settings valid, waiting on the role locks) with the release meant;
             the state volume's backup is made meanwhile (`Procedure.beside`)
    switch   stop the old bot and worker (each saves, lets go of its lock) → wait until the new ones
             run (the stall clock starts once the old ones have exited) → verify → remove the old
             ones by id, name the new ones
    discard  a standby that failed: keep what the new containers said, remove them, put the tags
             back, record `refused` and raise `SettingsInvalid` when one refused its runtime settings (its
             `configured` stage replaces the preflight's check-config containers), else `StandbyFailed`
             (both exit 10): the running release never stopped. A backup that failed: the same, and
             its own error is raised
    back     a switch that failed: keep what the new containers said, remove them, put the tags back,
             start the old containers by id (no Compose, no checkout), judge them as a release that ran
             before, verify; an old container gone by hand: the earlier release from its record instead

A handover needs both releases to say their stages (`liveness.can_hand_over`) and one running container
of each service (`possible`); anything else takes the stop-first switch (`deploy.procedures.services`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

import docker.errors

from deploy import verify as verification
from deploy.config import SERVICES
from deploy.engine import compose
from deploy.errors import StandbyFailed
from deploy.ids import short
from deploy.procedures import preflight
from deploy.procedures.procedure import Attempt, Deployment, Step, cause_of, record
from deploy.procedures.services import FAILED_STOP_SECONDS, compose_run, keep_evidence_of, verified, with_last_words
from deploy.records import ledger
from deploy.steps import handover, liveness, roles, startup, tags
from deploy.steps.images import ReleaseImage
from trading import stages
from trading.errors import SettingsError


@dataclass
class Handover:
    """The containers of one handover, by service: the old ones (running before), the new ones once started."""

    old: dict[str, str]
    new: dict[str, str] = field(default_factory=dict)
    gap: float | None = None  # seconds between the old bot's last tick and the new bot's first


def possible(d: Deployment, target: ReleaseImage, live: ReleaseImage | None) -> Handover | None:
    """The handover from what runs now to `target`, when both say their stages and each service runs once."""
    if live is None or not liveness.can_hand_over(_labels(d, live), _labels(d, target)):
        return None
    found = roles.of_project(d.settings, d.engine)
    if any([c.status for c in found[service]] != ["running"] for service in SERVICES):
        return None  # none, several, or a stopped one (`compose up` would start it again): stop first
    return Handover({service: found[service][0].id or "" for service in SERVICES})


def _labels(d: Deployment, image: ReleaseImage) -> dict[str, str]:
    try:
        return d.engine.images.get(image.image_id).labels or {}
    except docker.errors.ImageNotFound:
        return {}


def standby_steps(d: Deployment, target: ReleaseImage, h: Handover) -> list[Step]:
    argv = tuple(compose.standby(d.compose, d.settings, d.trees.path(target.commit)))
    return [
        Step(
            f"start the bot and worker of {short(target.commit)} beside the running ones",
            lambda: _start(d, target, h, argv),
            argv,
        ),
        Step(
            "wait until the new bot and worker stand by",
            lambda: _wait(d, target, h.new, stages.STANDING_BY, ran_before=False),
            proves=True,
        ),
    ]


def _start(d: Deployment, target: ReleaseImage, h: Handover, argv: tuple[str, ...]) -> None:
    before = _ids(d)
    compose_run(d, argv, target)
    h.new.update(handover.new_ones(before, _ids(d)))


def _ids(d: Deployment) -> dict[str, list[str]]:
    return {service: [c.id or "" for c in found] for service, found in roles.of_project(d.settings, d.engine).items()}


def _wait(d: Deployment, image: ReleaseImage, ids: dict[str, str], goal: str, ran_before: bool) -> str:
    begun = time.monotonic()
    targets = [
        startup.Target(
            container, service, startup.limits(d.settings, goal, service, image.code_digest, ran_before), True
        )
        for service, container in ids.items()
    ]
    judged = startup.wait(d.engine, targets)
    return "; ".join(j.why for j in judged.values()) + f", in {time.monotonic() - begun:.1f} s"


def switch_steps(
    d: Deployment, target: ReleaseImage, h: Handover, expected: Callable[[], verification.Expected] | None = None
) -> list[Step]:
    """`expected`: verify's side of `target` read ahead (`verification.ahead`)."""
    return [
        Step(
            "stop the old bot and worker (each saves and lets go of its lock)",
            lambda: handover.stop_all(d.engine, h.old.values()),
            bot_down=True,
        ),
        Step("wait until the new bot and worker run", lambda: _took_over(d, target, h), bot_down=True, proves=True),
        Step(f"verify that {short(target.commit)} runs", lambda: verified(d, h.new, expected)),
        Step("remove the old bot and worker, name the new ones", lambda: _finish(d, h)),
    ]


def _took_over(d: Deployment, target: ReleaseImage, h: Handover) -> str:
    said = _wait(d, target, h.new, stages.RUNNING, ran_before=False)
    h.gap = handover.tick_gap(d.engine, h.old["bot"], h.new["bot"])
    d.trail.bot_down = h.gap
    return said + (f"; the bot traded again {h.gap:.3f} s after its last tick" if h.gap is not None else "")


def _finish(d: Deployment, h: Handover) -> None:
    handover.remove_all(d.engine, h.old.values(), FAILED_STOP_SECONDS)
    handover.rename(d.engine, d.settings, h.new)


def discard(
    d: Deployment, target: ReleaseImage, attempt: Attempt, h: Handover, exc: Exception, beside: bool = False
) -> NoReturn:
    """A standby that failed, or the backup beside it (`beside`): nothing that ran was stopped; see the module
    docstring. Always raises: the backup's own error; `SettingsInvalid` when a standby refused its runtime
    settings (exit 9), else `StandbyFailed`."""
    kept = [] if beside else keep_evidence_of(d, h.new.values())  # a backup's failure is none of theirs
    cause = with_last_words(cause_of(exc), kept)
    handover.remove_all(d.engine, h.new.values(), FAILED_STOP_SECONDS)
    tags.restore(d.settings, d.engine, attempt.before)
    record(d, attempt, ledger.REFUSED, cause)
    if beside:
        raise exc
    for found in kept:
        if found.exit_code == SettingsError.exit_code:
            raise preflight.settings_invalid(found.service, found.last_line) from exc
    was = short(attempt.before.live.commit) if attempt.before.live else "nothing"
    raise StandbyFailed(
        f"{attempt.event} of {short(target.commit)} refused: its bot and worker did not stand by ({cause}); "
        f"{was} never stopped",
        f"the last lines above say why; fix the release and {attempt.event} again",
        failed=target.commit,
        cause=cause,
    ) from exc


def remove_new(d: Deployment, h: Handover) -> Step:
    return Step(
        f"remove the new bot and worker ({FAILED_STOP_SECONDS} s to stop: it failed)",
        lambda: handover.remove_all(d.engine, h.new.values(), FAILED_STOP_SECONDS),
        bot_down=True,
    )


def back_steps(d: Deployment, live: ReleaseImage, h: Handover) -> list[Step]:
    """Remove the new containers and start the old ones again by id (`start_all`), judged as having run before."""
    remove = remove_new(d, h)
    start = Step(
        f"start the bot and worker of {short(live.commit)} again",
        lambda: handover.start_all(d.engine, h.old.values()),
        bot_down=True,
    )
    wait = Step(
        "wait until they run",
        lambda: _wait(d, live, h.old, stages.RUNNING, ran_before=True),
        bot_down=True,
        proves=True,
    )
    return [
        remove,
        start,
        wait,
        Step(f"verify that {short(live.commit)} runs", lambda: verified(d, h.old)),
    ]


def old_ones_kept(d: Deployment, h: Handover) -> bool:
    """Whether every old container is still there to be started again (nobody removed one by hand)."""
    for container in h.old.values():
        try:
            d.engine.containers.get(container)
        except docker.errors.NotFound:
            return False
    return True
