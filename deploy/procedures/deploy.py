"""`invoke deploy`: make a commit's release image live (`deploy.procedures.switch` has the steps).

    lock → refuse while a volume rebuild forbids it (`deploy.procedures.rebuildguard`)
         → finish what a killed attempt left (`deploy.procedures.recover`)
         → the commit's release image (clean, unless forced) → the switch

`plan` prints the same steps and changes nothing.
"""

from __future__ import annotations

import docker

from deploy.config import Settings
from deploy.engine.git import Repository
from deploy.engine.runner import Runner
from deploy.procedures import rebuildguard, recover
from deploy.procedures.procedure import Attempt, Deployment, Say, locked
from deploy.procedures.switch import new_attempt, plan_of, switch
from deploy.procedures.trail import Trail
from deploy.steps import tags


def deploy(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    rev: str = "HEAD",
    force: bool = False,
    runner: Runner | None = None,
    say: Say = print,
    fresh_state: bool = False,
    trail: Trail | None = None,
    stop_first: bool = False,
) -> Attempt:
    """Run the release image of `rev` (made by `deploy.procedures.build`) as bot and worker; see the module docstring.

    `force` accepts an image built from a dirty tree; `fresh_state` a missing state volume of a deployment
    that released before; `stop_first` stops the old release before the new one starts, even where a standby
    handover could run (for a compose change Compose cannot make beside running containers). Raises
    ImageMissing, DirtyImage, LockHeld, PreflightFailed (StandbyFailed), RolledBack (the earlier release runs
    again), RollbackFailed, NotRecorded, DeployError.
    """
    d = Deployment.of(settings, engine, repo, say, runner, trail)
    with locked(settings, engine, f"deploy {rev}", say):
        rebuildguard.refuse(d)
        recover.finish_interrupted(d)
        target = tags.of_commit(settings, engine, repo.commit(rev).sha, force, d.records)
        return switch(d, target, new_attempt(d, "deploy", target), fresh_state, stop_first)


def plan(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    rev: str = "HEAD",
    force: bool = False,
    say: Say = print,
    fresh_state: bool = False,
) -> None:
    """Say what `deploy` would do: the live state, its steps, what stops it, the way back; changing nothing."""
    d = Deployment.of(settings, engine, repo, say)
    target = tags.of_commit(settings, engine, repo.commit(rev).sha, force, d.records)
    say(plan_of(d, "deploy", target, fresh_state))
