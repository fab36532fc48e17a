"""`invoke fleet-move MEMBER --to ENGINE`: move one deployment to another engine, by hand, never by itself.

Run in one child holding both engines (DOCKER_HOST the target, the source by its address), so the
source's deploy lock is held from the first look to the last step:

    refused before anything stops (`MoveRefused`): nothing live on the source; the target holds the
    project's state, meta volume or containers (unless the deployment moved away from there before);
    no base image on the target
    lock the source → the live image onto the target (the very image: saved, loaded, tagged)
    switch: stop and remove bot and worker on the source (the bot saves on its way out)
          → final backup of the still state on the source
          → carry the state and the meta volume (ledger, reports) to the target, each proven identical
          → deploy the release on the target (`deploy.procedures.deploy`: preflight, backup, start,
            health, verify, ledger)
    finish: the source's state volume is removed (its final backup stays) and the source is marked
            moved (`deploy.steps.moves`), so no deploy or restore there starts a second writer

When a switch step fails, what the move made on the target goes, the release starts on the source
again on its untouched state, and `MoveFailed` says so. The backup is taken after the stop, not
before: nothing can change the state after it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine import baseimage
from deploy.engine.runner import Runner
from deploy.errors import ImageError, MoveFailed, MoveRefused, TradebotError
from deploy.fleet import carry, children, roster
from deploy.fleet.children import Answer
from deploy.fleet.roster import Fleet
from deploy.ids import short
from deploy.output.progress import Progress, Say
from deploy.output.render import template
from deploy.procedures import deploy as deploying
from deploy.procedures import trail as trails
from deploy.procedures.procedure import Deployment, Step, as_deployed, walk_steps
from deploy.procedures.services import remove_step, start_steps
from deploy.procedures.trail import Trail
from deploy.records import ledger
from deploy.steps import backups, lock, moves, tags
from deploy.steps.images import ReleaseImage, release_tag

if TYPE_CHECKING:
    from deploy.engine.git import Repository

CHUNK = 1 << 20


@dataclasses.dataclass
class Move:
    """One move: the deployment on both engines, what it has done so far (what a failure undoes)."""

    settings: Settings
    source: docker.DockerClient
    target: docker.DockerClient
    repo: Repository
    came_from: str  # the source's address
    going_to: str  # the target's address
    say: Say
    trail: Trail = dataclasses.field(default_factory=Trail)
    made: list[str] = dataclasses.field(default_factory=list)  # volumes it created on the target
    stopped: bool = False
    final_backup: str = ""
    carried: list[carry.Carried] = dataclasses.field(default_factory=list)
    deployed: dict[str, Any] | None = None


def move_member(move: Move) -> dict[str, Any]:
    """Move the deployment (see the module docstring); its document. Raises MoveRefused, MoveFailed."""
    live = refuse_unmovable(move.settings, move.source, move.target)
    move.trail.commit = live.commit
    with lock.held(move.settings, move.source, f"fleet-move to {move.going_to}", move.say):
        progress = Progress("fleet-move", move.say)
        walk_steps(progress, move.trail, [_image_step(move, live)])
        try:
            walk_steps(progress, move.trail, _switch_steps(move, live))
        except (TradebotError, docker.errors.DockerException) as exc:
            _put_back(move, live, exc)
        walk_steps(progress, move.trail, [_retire_step(move)])
    return document(move, live)


def refuse_unmovable(settings: Settings, source: docker.DockerClient, target: docker.DockerClient) -> ReleaseImage:
    """The live release on the source; MoveRefused when the move cannot start (nothing is changed)."""
    live = _movable(settings, source)
    if not moves.moved_to(settings, target):  # an engine it moved away from keeps its ledger: it may come back
        taken = [name for name in (settings.state_volume, settings.meta_volume) if backups.exists(target, name)]
        if taken:
            raise MoveRefused(
                f"the target already holds {', '.join(taken)}",
                "a deployment of this project lives there: move to another engine, or remove it there first",
            )
    try:
        baseimage.resolve(settings, target)
    except ImageError as exc:
        raise MoveRefused(f"the target has no base image ({exc.message})", "`invoke base-image` against it") from exc
    return live


def _movable(settings: Settings, source: docker.DockerClient) -> ReleaseImage:
    """The live release on the source; MoveRefused when it moved away from there, or nothing is live."""
    gone = moves.moved_to(settings, source)
    if gone is not None:
        raise MoveRefused(
            f"{settings.project} already moved from the source to {gone.to} at {gone.at}",
            f"move it from where it lives now: set its engine to {gone.to} in the fleet file",
        )
    live = tags.get(source, settings.live_image)
    if live is None:
        raise MoveRefused(f"nothing of {settings.project} is live on the source", "deploy it there first, or move none")
    return live


def _image_step(move: Move, live: ReleaseImage) -> Step:
    return Step(f"put {short(live.image_id)} ({short(live.commit)}) on the target", lambda: _same_image(move, live))


def _same_image(move: Move, live: ReleaseImage) -> None:
    """The source's very image on the target, tagged `<project>:<commit>` (loaded unless it is there)."""
    tag = release_tag(move.settings.image_repo, live.commit, live.dirty)
    present = tags.get(move.target, tag)
    if present is not None and present.image_id == live.image_id:
        return
    with tempfile.TemporaryFile() as saved:
        for chunk in move.source.images.get(live.image_id).save(chunk_size=CHUNK, named=False):
            saved.write(chunk)
        saved.seek(0)
        move.target.images.load(saved)
    move.target.images.get(live.image_id).tag(*tag.rsplit(":", 1))


def _switch_steps(move: Move, live: ReleaseImage) -> list[Step]:
    settings, stop = move.settings, remove_step(_at_source(move, live), live)
    return [
        dataclasses.replace(stop, action=lambda: _stopping(move, stop.action)),
        Step(f"final backup of {settings.state_volume} on the source", lambda: _final_backup(move), proves=True),
        Step(f"carry {settings.state_volume} to the target", lambda: _carry(move, settings.state_volume), proves=True),
        Step(f"carry {settings.meta_volume} to the target", lambda: _carry(move, settings.meta_volume), proves=True),
        Step(f"deploy {short(live.commit)} on the target", lambda: _deploy(move, live)),
    ]


def _at_source(move: Move, live: ReleaseImage) -> Deployment:
    """The deployment on the source, as its release was deployed: Compose reaches the source's address."""
    d = Deployment.of(move.settings, move.source, move.repo, move.say)
    d = dataclasses.replace(d, environ={**d.environ, "DOCKER_HOST": move.came_from})
    return as_deployed(d, live, d.records.entries())


def _stopping(move: Move, stop: Callable[[], object]) -> object:
    move.stopped = True  # from here on the source may be down, even when the stop itself fails
    return stop()


def _final_backup(move: Move) -> str:
    helper = baseimage.resolve(move.settings, move.source)
    move.final_backup = backups.backup_state(move.settings, move.source, helper, prune=False) or ""
    return f"kept as {move.final_backup}"


def _carry(move: Move, volume: str) -> str:
    settings = move.settings
    labels = move.source.volumes.get(volume).attrs.get("Labels") or {}
    tar = carry.read(move.source, baseimage.resolve(settings, move.source), settings.project, volume)
    with contextlib.suppress(docker.errors.NotFound):
        move.target.volumes.get(volume).remove()  # left where the deployment moved away from before
    move.made.append(volume)
    done = carry.write(move.target, baseimage.resolve(settings, move.target), settings.project, volume, tar, labels)
    move.carried.append(done)
    return f"{done.files} files, {done.bytes} bytes, proven identical"


def _deploy(move: Move, live: ReleaseImage) -> None:
    moves.forget(move.settings, move.target)  # the deployment comes back to an engine it left
    trail = Trail(commit=live.commit)
    try:
        deploying.deploy(move.settings, move.target, move.repo, rev=live.commit, say=move.say, trail=trail)
    except TradebotError as error:
        move.deployed = trails.document(trail, move.settings.meta_volume, error)
        raise
    move.deployed = trails.document(trail, move.settings.meta_volume)


def _put_back(move: Move, live: ReleaseImage, exc: Exception) -> None:
    """Undo what the move made on the target and start the release on the source again; raise MoveFailed."""
    cause = exc.message if isinstance(exc, TradebotError) else f"Docker engine: {exc}"
    try:
        _clear_target(move)
        if move.stopped:
            walk_steps(
                Progress("fleet-move (put back)", move.say), move.trail, start_steps(_at_source(move, live), live)
            )
    except (TradebotError, docker.errors.DockerException) as failed:
        raise MoveFailed(
            f"moving {move.settings.project} failed ({cause}); starting it on the source again failed too ({failed})",
            f"its state is untouched in {move.settings.state_volume} on the source (final backup "
            f"{move.final_backup or 'not made'}); `invoke deploy` there with DOCKER_HOST={move.came_from}",
        ) from exc
    raise MoveFailed(
        f"moving {move.settings.project} to {move.going_to} failed ({cause}); it runs on the source again",
        "nothing changed on the source but a backup; fix the cause and run `invoke fleet-move` again",
    ) from exc


def _clear_target(move: Move) -> None:
    """Remove the containers a failed deploy left and the volumes the move created on the target."""
    label = {"label": f"com.docker.compose.project={move.settings.project}"}
    for container in move.target.containers.list(ignore_removed=True, all=True, filters=label):
        container.remove(force=True)
    for volume in move.made:
        with contextlib.suppress(docker.errors.NotFound):
            move.target.volumes.get(volume).remove(force=True)


def _retire_step(move: Move) -> Step:
    name = f"mark the source moved and remove its {move.settings.state_volume} (the final backup stays)"
    return Step(name, lambda: moves.mark(move.settings, move.source, move.going_to, move.final_backup))


def document(move: Move, live: ReleaseImage) -> dict[str, Any]:
    return {
        "ok": True,
        "project": move.settings.project,
        "from": move.came_from,
        "to": move.going_to,
        "commit": live.commit,
        "image_id": live.image_id,
        "final_backup": move.final_backup,
        "carried": [dataclasses.asdict(done) for done in move.carried],
        "steps": [{"name": s.name, "seconds": s.seconds, "ok": s.ok} for s in move.trail.steps],
        "deploy": move.deployed,
        "moved_at": ledger.now(),
    }


def move(fleet: Fleet, base: Mapping[str, str], repo: Path, name: str, to: str, runner: Runner | None = None) -> Answer:
    """Run the move of member `name` to the engine `to` in its child (see the module docstring); its answer."""
    member = fleet.member(name)
    if not roster.is_address(to):
        raise MoveRefused(f"--to {to!r} is no engine address", roster.ADDRESS_HINT)
    if to == member.engine:
        raise MoveRefused(f"{name} already lives on {to}", "name the engine it is to move to")
    env = {**children.environ(member, base, repo), "DOCKER_HOST": to}
    return children.ask(member, env, ("move", "--source", member.engine), None, runner or Runner(), progress=True)


def output(answer: Answer, member: str, to: str, as_json: bool) -> str:
    if as_json:
        return json.dumps({"member": member, "to": to, **answer.document}, indent=2)
    if not answer.ok:
        return f"fleet-move of {member} to {to}: FAILED in {answer.seconds:.1f} s"
    done = answer.document
    return template("fleet_move.txt.j2", member=member, d=done, seconds=answer.seconds).rstrip("\n")
