"""`invoke fleet-release`: one commit on every member, one member at a time, in the fleet file's order.

    preflight  a member that builds; every member's status at once (`deploy.fleet.status`): none
               unreachable, no deploy lock held, no state with a second writer — else refused, nothing
               changed anywhere (the report says so, every member untouched, with the refusal's error)
    images     each member that builds builds the commit on its own engine (all at once); the image the
               first of them built is saved once and loaded where `build = false`
    release    member by member, `deploy.procedures.deploy` in the member's child (preflight, backup,
               switch, health, verify, and its own rollback when it fails); the first failure stops the
               fleet: that member runs its earlier release again by itself, the members after it are
               untouched

The fleet's report names the commit and, for each member, how its image came, its outcome (released,
failed, untouched) and its own report: the document `invoke release --json` prints.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker

from deploy.config import Settings
from deploy.engine.runner import Runner
from deploy.errors import FleetFileInvalid, FleetReleaseStopped, LockHeld, SecondWriter, TradebotError
from deploy.fleet import children
from deploy.fleet import status as fleetstatus
from deploy.fleet.children import Answer
from deploy.fleet.roster import Fleet, Member
from deploy.ids import short
from deploy.output.progress import Say
from deploy.output.render import template
from deploy.procedures import deploy as deploying
from deploy.procedures import trail as trails
from deploy.procedures.trail import Trail

if TYPE_CHECKING:
    from deploy.engine.git import Repository

RELEASED, FAILED, UNTOUCHED = "released", "failed", "untouched"


def deploy_member(
    settings: Settings, engine: docker.DockerClient, repo: Repository, commit: str, say: Say
) -> dict[str, Any]:
    """Deploy `commit` on the member (its child's side): its document as `invoke release --json` prints it."""
    trail = Trail(commit=commit)
    try:
        deploying.deploy(settings, engine, repo, rev=commit, say=say, trail=trail)
    except TradebotError as error:
        return {**trails.document(trail, settings.meta_volume, error), "error_type": type(error).__name__}
    return trails.document(trail, settings.meta_volume)


@dataclass(frozen=True)
class Outcome:
    member: Member
    image: Answer | None = None  # its build, or its load
    release: Answer | None = None  # its deploy; None: not reached

    @property
    def outcome(self) -> str:
        if self.release is None:
            return FAILED if self.image is not None and not self.image.ok else UNTOUCHED
        return RELEASED if self.release.ok else FAILED


@dataclass(frozen=True)
class FleetRelease:
    path: Path
    commit: str
    members: tuple[Outcome, ...]
    seconds: float = 0.0
    refused: TradebotError | None = None  # the preflight's refusal: nothing changed anywhere

    @property
    def stopped_at(self) -> Outcome | None:
        return next((found for found in self.members if found.outcome == FAILED), None)

    def to_json(self) -> dict[str, Any]:
        stopped, error = self.stopped_at, stopped_error(self)
        document: dict[str, Any] = {
            "ok": error is None,
            "fleet": str(self.path),
            "commit": self.commit,
            "seconds": self.seconds,
            "stopped_at": stopped.member.name if stopped else "",
            "members": [_member_json(found) for found in self.members],
        }
        if error is not None:
            document.update(error=error.message, next=error.hint, exit_code=error.exit_code)
        return document


def _member_json(found: Outcome) -> dict[str, Any]:
    member = found.member
    return {
        "member": member.name,
        "engine": member.engine,
        "project": member.project,
        "outcome": found.outcome,
        "image": dict(found.image.document) if found.image else None,
        "exit_code": found.release.exit_code if found.release else None,
        "seconds": found.release.seconds if found.release else None,
        "report": dict(found.release.document) if found.release else None,
    }


def release(
    fleet: Fleet, base: Mapping[str, str], repo: Repository, rev: str, say: Say, runner: Runner | None = None
) -> FleetRelease:
    """Release `rev` on every member (see the module docstring); the fleet's report, a refused one too."""
    runner, started = runner or Runner(), time.monotonic()
    commit = repo.commit(rev).sha  # resolved once: every member gets the same commit
    envs = {member.name: children.environ(member, base, repo.root) for member in fleet.members}
    try:
        preflight(fleet, base, repo.root, runner, say)
    except TradebotError as refused:
        untouched = tuple(Outcome(member) for member in fleet.members)
        return FleetRelease(fleet.path, commit, untouched, round(time.monotonic() - started, 2), refused)
    images = make_images(fleet, envs, commit, runner, say)
    outcomes = [Outcome(member, images.get(member.name)) for member in fleet.members]
    if all(found.image is not None and found.image.ok for found in outcomes):
        outcomes = release_in_order(outcomes, envs, commit, runner, say)
    return FleetRelease(fleet.path, commit, tuple(outcomes), round(time.monotonic() - started, 2))


def preflight(fleet: Fleet, base: Mapping[str, str], repo: Path, runner: Runner, say: Say) -> None:
    """Refuse before anything changes: no member that builds, a member unreachable, a deploy lock held, a state
    with a second writer."""
    if not any(member.build for member in fleet.members):
        raise FleetFileInvalid(f"no member of {fleet.path} builds", "set build = true on one member (or more)")
    say(f"fleet-release: asking the {len(fleet.members)} members for their status …")
    found = fleetstatus.collect(fleet, base, repo, runner)
    fleetstatus.refuse_unanswered(found)
    for member, answer in zip(found.members, found.answers, strict=True):
        if answer.document.get("lock"):
            raise _locked(member, answer.document["lock"])
    writers = [line for line in found.disagreements if "second writer" in line]
    if writers:
        raise SecondWriter(
            f"nothing was released: {'; '.join(writers)}",
            "stop what writes a member's state outside its own engine (`invoke fleet-status` names it)",
        )


def _locked(member: Member, holder: Mapping[str, Any]) -> LockHeld:
    return LockHeld(
        f"the deploy lock of {member.name} is held by {holder['by']} ({holder['what']}) since {holder['since']}",
        f"nothing was released; wait for it, or `invoke unlock` with DOCKER_HOST={member.engine} "
        f"TRADEBOT_PROJECT={member.project} if it is dead",
        member=member.name,
    )


def make_images(
    fleet: Fleet, envs: Mapping[str, Mapping[str, str]], commit: str, runner: Runner, say: Say
) -> dict[str, Answer]:
    """The commit's image on every member: built where it builds, loaded from the first builder elsewhere."""
    builders = [member for member in fleet.members if member.build]  # one at least: the preflight saw to it
    say(f"fleet-release: building {short(commit)} on {', '.join(m.name for m in builders)} …")
    built = children.ask_all(builders, envs, ("build", "--rev", commit), dict.fromkeys(envs), runner)
    found = {answer.member: answer for answer in built}
    _said(built, say)
    source = next((m for m in builders if found[m.name].ok), None)
    loaders = [member for member in fleet.members if not member.build]
    if loaders and source is not None and all(answer.ok for answer in built):
        found.update(_loaded(source, loaders, envs, commit, runner, say))
    return found


def _loaded(
    source: Member,
    loaders: Sequence[Member],
    envs: Mapping[str, Mapping[str, str]],
    commit: str,
    runner: Runner,
    say: Say,
) -> dict[str, Answer]:
    """The image `source` built, saved once to a file here and loaded by each of `loaders`."""
    with tempfile.TemporaryDirectory(prefix="tradebot-fleet-") as folder:
        path = str(Path(folder) / f"{short(commit)}.tar")
        saved = children.ask(source, envs[source.name], ("save", "--rev", commit, "--to", path), None, runner)
        if not saved.ok:
            return {member.name: saved for member in loaders}
        say(
            f"fleet-release: loading {short(commit)} ({saved.document.get('bytes', 0) >> 20} MiB) into "
            f"{', '.join(m.name for m in loaders)} …"
        )
        action = ("load", "--rev", commit, "--from", path, "--source", source.name)
        loaded = children.ask_all(loaders, envs, action, dict.fromkeys(envs), runner)
    _said(loaded, say)
    return {answer.member: answer for answer in loaded}


def _said(answers: Sequence[Answer], say: Say) -> None:
    for answer in answers:
        done = answer.document
        line = f"{done.get('how')} {short(str(done.get('image_id', '')))}" if answer.ok else f"FAILED: {answer.error}"
        say(f"fleet-release: {answer.member}: {line} ({answer.seconds:.1f} s)")


def release_in_order(
    outcomes: Sequence[Outcome], envs: Mapping[str, Mapping[str, str]], commit: str, runner: Runner, say: Say
) -> list[Outcome]:
    """Deploy member by member; after the first failure the rest stay untouched."""
    done: list[Outcome] = []
    for number, found in enumerate(outcomes, 1):
        member = found.member
        if done and done[-1].outcome == FAILED:
            done.append(found)
            continue
        say(f"fleet-release [{number}/{len(outcomes)}] {member.name} ({member.engine}): deploying {short(commit)} …")
        answer = children.ask(member, envs[member.name], ("deploy", "--rev", commit), None, runner, progress=True)
        said = "released" if answer.ok else f"FAILED (exit {answer.exit_code}): {answer.error}"
        say(f"fleet-release [{number}/{len(outcomes)}] {member.name}: {said} in {answer.seconds:.1f} s")
        done.append(Outcome(member, found.image, answer))
    return done


def stopped_error(found: FleetRelease) -> TradebotError | None:
    """The error a fleet release that stopped ends with, naming the member, what it runs now and who is untouched;
    a refused one ends with its refusal."""
    if found.refused is not None:
        return found.refused
    stopped = found.stopped_at
    if stopped is None:
        return None
    untouched = [o.member.name for o in found.members if o.outcome == UNTOUCHED]
    step = "its release" if stopped.release is not None else "its image"
    report = stopped.release or stopped.image
    assert report is not None
    rest = f"; untouched: {', '.join(untouched)}" if untouched else ""
    return FleetReleaseStopped(
        f"the fleet release of {short(found.commit)} stopped at {stopped.member.name}: {step} failed "
        f"({report.error}){rest}",
        "`invoke fleet-status` shows what each member runs; fix the cause and run `invoke fleet-release` again",
        member=stopped.member.name,
        exit_code=report.exit_code,
    )


def output(found: FleetRelease, as_json: bool) -> str:
    if as_json:
        return json.dumps(found.to_json(), indent=2)
    return template("fleet_release.txt.j2", f=found).rstrip("\n")
