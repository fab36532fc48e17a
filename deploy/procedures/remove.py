"""`tradebot remove`: take a deployment off the engine: its containers and release images; its state only when asked.

Rules:
- under the deploy lock: no deploy, rollback or restore runs meanwhile;
- bot and worker get their stop grace period to save (the engine's StopTimeout, which Compose set);
- the state volume goes only with `state`, after a final backup that stays: the tool never deletes the
  last copy of the bot's state (`restore` brings it back after the next deploy);
- the older backups go only with `backups` (when no state volume is left, the newest stays: it is the last copy);
- the ledger and the reports (`<project>_meta`) stay: the deployment's history outlives it.
`plan` names the same steps and what each would remove, and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine import baseimage
from deploy.engine.compose import PROJECT_LABEL
from deploy.errors import first_of
from deploy.output.progress import Progress, Say
from deploy.procedures.procedure import Step, locked, plan_lines, walk_steps
from deploy.procedures.trail import Trail
from deploy.steps import backups, images


def remove(
    settings: Settings, engine: docker.DockerClient, state: bool = False, old_backups: bool = False, say: Say = print
) -> None:
    """Remove the deployment's containers and release images (and its state, and its backups, when asked)."""
    with locked(settings, engine, "remove", say):
        walk_steps(Progress("remove", say), Trail(), steps(settings, engine, state, old_backups))
    kept = "the ledger and reports" + ("" if old_backups else " and the backups")
    say(f"remove: {settings.project} is removed; {kept} stay (`docker volume ls` lists them)")


def plan(
    settings: Settings, engine: docker.DockerClient, state: bool = False, old_backups: bool = False, say: Say = print
) -> None:
    """What `remove` would do, step by step; changes nothing."""
    say("\n".join([f"remove {settings.project}:", *plan_lines(steps(settings, engine, state, old_backups))]))


def steps(settings: Settings, engine: docker.DockerClient, state: bool, old_backups: bool) -> list[Step]:
    containers = engine.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{PROJECT_LABEL}={settings.project}"}
    )
    repo = settings.image_repo
    tags = sorted(tag for image in engine.images.list(name=repo) for tag in images.own_tags(image.tags, repo))
    found = [
        Step(f"stop and remove {_named([c.name for c in containers])}", lambda: _containers(settings, engine)),
        Step(f"untag {_named(tags)}", lambda: _untag(engine, tags)),
    ]
    if state and backups.exists(engine, settings.state_volume):
        found += _state_steps(settings, engine)
    if old_backups:
        older = removable(backups.listed(settings, engine), backups.exists(engine, settings.state_volume), state)
        found.append(Step(f"remove the backups {_named(older)}", lambda: _volumes(engine, older)))
    return found


def removable(newest_first: list[backups.Backup], state_exists: bool, state_removed: bool) -> list[str]:
    """The backups `--backups` removes: all, but the newest when it is the last copy of the state (pure).

    With `--state` the final backup is made after this list: it stays. With no state volume left, the
    newest backup is all that remains of the state, and stays.
    """
    names = [backup.name for backup in newest_first]
    return names if state_exists or state_removed else names[1:]


def _state_steps(settings: Settings, engine: docker.DockerClient) -> list[Step]:
    volume = settings.state_volume
    final = backups.backup_name(volume, datetime.now(UTC))
    return [
        Step(f"back up {volume} into {final} (kept)", lambda: _backup(settings, engine, final)),
        Step(f"remove {volume}", lambda: engine.volumes.get(volume).remove()),
    ]


def _named(names: list[str]) -> str:
    return first_of(names, 4) if names else "nothing (none found)"


def _containers(settings: Settings, engine: docker.DockerClient) -> None:
    label = {"label": f"{PROJECT_LABEL}={settings.project}"}
    for container in engine.containers.list(ignore_removed=True, filters=label):
        container.stop()  # its StopTimeout: the grace period the compose file gives it to save
    for container in engine.containers.list(ignore_removed=True, all=True, filters=label):
        container.remove()
    for network in engine.networks.list(filters=label):
        network.remove()


def _untag(engine: docker.DockerClient, tags: list[str]) -> None:
    for tag in tags:
        engine.images.remove(tag)


def _backup(settings: Settings, engine: docker.DockerClient, final: str) -> None:
    backups.backup_state(settings, engine, baseimage.resolve(settings, engine), prune=False, name=final)


def _volumes(engine: docker.DockerClient, names: list[str]) -> None:
    for name in names:
        engine.volumes.get(name).remove()
