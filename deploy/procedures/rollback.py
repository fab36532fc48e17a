"""`invoke rollback`: make an earlier release live again, with the settings it was deployed with.

    lock → refuse while a volume rebuild forbids it (`deploy.procedures.rebuildguard`)
         → finish what a killed attempt left (`deploy.procedures.recover`)
         → the release to go back to (`choose_target`) → Compose on its release record when this clone lacks
           its commit (`deploy.procedures.releaserecord`) → the switch (`deploy.procedures.switch`)

`plan` prints the same steps and changes nothing.
"""

from __future__ import annotations

import docker

from deploy.config import Settings
from deploy.engine.git import Repository
from deploy.engine.runner import Runner
from deploy.errors import ImageMissing
from deploy.ids import short
from deploy.procedures import rebuildguard, recover, releaserecord
from deploy.procedures.procedure import Attempt, Deployment, Say, as_deployed, locked
from deploy.procedures.switch import new_attempt, plan_of, switch
from deploy.procedures.trail import Trail
from deploy.records import ledger
from deploy.steps import tags
from deploy.steps.images import ReleaseImage


def rollback(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    to: str | None = None,
    runner: Runner | None = None,
    say: Say = print,
    trail: Trail | None = None,
    stop_first: bool = False,
) -> Attempt:
    """Run an earlier release again: `to` (a revision), else `:previous`, else the ledger's last other success.

    By standby handover when both releases can, unless `stop_first`."""
    d = Deployment.of(settings, engine, repo, say, runner, trail)
    with locked(settings, engine, "rollback", say):
        rebuildguard.refuse(d)
        recover.finish_interrupted(d)
        target = choose_target(d, to)
        releaserecord.trees_for(d, target, tags.get(engine, settings.live_image))  # a clone may lack them
        d = as_deployed(d, target, d.records.entries())
        return switch(d, target, new_attempt(d, "rollback", target), stop_first=stop_first)


def plan(
    settings: Settings, engine: docker.DockerClient, repo: Repository, to: str | None = None, say: Say = print
) -> None:
    """Say what `rollback` would do, changing nothing."""
    d = Deployment.of(settings, engine, repo, say)
    target = choose_target(d, to)
    releaserecord.trees_for(d, target, tags.get(engine, settings.live_image))
    say(plan_of(as_deployed(d, target, d.records.entries()), "rollback", target))


def choose_target(d: Deployment, to: str | None) -> ReleaseImage:
    settings, engine, repo = d.settings, d.engine, d.repo
    if to:
        return tags.of_commit(settings, engine, repo.commit(to).sha, False, d.records)
    previous = tags.get(engine, settings.previous_image)
    if previous:
        return tags.recorded(settings, engine, previous, settings.previous_image, d.records)
    live = tags.get(engine, settings.live_image)
    entry = ledger.last_success_before(d.records.entries(), live.commit if live else "")
    if entry is None:
        raise ImageMissing(
            f"image {settings.previous_image} is not on the engine",
            "no earlier release is recorded; name one: `invoke rollback --to REV`",
        )
    found = tags.get(engine, entry.image_id)
    if found is None:
        commit = short(entry.commit)
        raise ImageMissing(
            f"image {short(entry.image_id)} of {commit} is not on the engine",
            f"run `invoke build --rev {commit}` and deploy that",
        )
    return tags.recorded(settings, engine, found, short(entry.image_id), d.records)
