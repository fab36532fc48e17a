"""`invoke fleet-verify`: every member's own verify at once, and the fleet's point: one release everywhere.

A member's side (`of_member`, in its child): `deploy.verify.verify` of its deployment, and the three
facts the fleet compares, as that verify observed them — the commit, the code digest computed from
it, and the live image's code layer (its diff_id, the same for the same commit on any engine, where
image ids differ).

The fleet's side (`collect`, `fleet_point`, pure): the point holds when every member answered and
all report one commit, one code digest and one code layer. Exit 0 only when every member verifies
and the point holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker

from deploy import verify as verification
from deploy.config import Settings
from deploy.engine.runner import Runner
from deploy.errors import MemberUnreachable, VerifyFailed
from deploy.fleet import children
from deploy.fleet.children import Answer
from deploy.fleet.roster import Fleet, Member
from deploy.ids import short
from deploy.output.render import template
from deploy.policy.check import Check

if TYPE_CHECKING:
    from deploy.engine.git import Repository

FACTS = ("commit", "code digest", "code layer")  # what the fleet compares, as each member's verify observed it


def of_member(settings: Settings, engine: docker.DockerClient, repo: Repository) -> dict[str, Any]:
    """The member's verify report and the facts the fleet compares (its child's side)."""
    report = verification.verify(settings, engine, repo)
    digests = {point.name: point.digest or "" for point in report.points}
    document: dict[str, Any] = {
        "ok": report.ok,
        "verify": report.to_json(),
        "summary": report.summary(),
        "facts": {"commit": report.release, "code digest": digests["commit"], "code layer": digests["code layer"]},
    }
    if not report.ok:
        document.update(error=report.summary(), exit_code=VerifyFailed.exit_code, error_type=VerifyFailed.__name__)
    return document


def fleet_point(members: Sequence[Member], answers: Sequence[Answer]) -> Check:
    """Every member answered, and all run one commit with one code digest and one code layer (pure)."""
    silent = [a.member for a in answers if not a.document.get("facts")]
    if silent:
        return Check("fleet", "one release everywhere", False, f"no verify from {', '.join(silent)}")
    facts = {a.member: tuple(a.document["facts"].get(name, "") for name in FACTS) for a in answers}
    if len(set(facts.values())) == 1:
        commit, digest, layer = next(iter(facts.values()))
        shown = f"{len(members)} members run {short(commit)}, code digest {short(digest)}, code layer {short(layer)}"
        return Check("fleet", "one release everywhere", True, shown)
    return Check("fleet", "one release everywhere", False, "; ".join(_differ(facts)))


def _differ(facts: Mapping[str, tuple[str, ...]]) -> list[str]:
    """For each fact that is not the same everywhere: every member's value."""
    found = []
    for index, name in enumerate(FACTS):
        if len({values[index] for values in facts.values()}) > 1:
            each = ", ".join(f"{member} {short(values[index]) or 'none'}" for member, values in facts.items())
            found.append(f"{name} differs ({each})")
    return found


@dataclass(frozen=True)
class FleetVerify:
    path: Path
    members: tuple[Member, ...]
    answers: tuple[Answer, ...]
    point: Check
    seconds: float

    @property
    def ok(self) -> bool:
        return self.point.ok and all(answer.ok for answer in self.answers)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "fleet": str(self.path),
            "seconds": self.seconds,
            "point": self.point.to_json(),
            "members": [_member_json(m, a) for m, a in zip(self.members, self.answers, strict=True)],
        }


def _member_json(member: Member, answer: Answer) -> dict[str, Any]:
    document = answer.document
    return {
        "member": member.name,
        "engine": member.engine,
        "project": member.project,
        "ok": answer.ok,
        "seconds": answer.seconds,
        "unreachable": answer.unreachable,
        "error": "" if answer.ok else answer.error,
        "facts": document.get("facts"),
        "verify": document.get("verify"),
    }


def collect(fleet: Fleet, base: Mapping[str, str], repo: Path, runner: Runner | None = None) -> FleetVerify:
    """Every member's verify at once (each killed at its `verify_timeout`), and the fleet's point."""
    started = time.monotonic()
    envs = {member.name: children.environ(member, base, repo) for member in fleet.members}
    timeouts = {member.name: member.verify_timeout for member in fleet.members}
    answers = tuple(children.ask_all(fleet.members, envs, ("verify",), timeouts, runner or Runner()))
    point = fleet_point(fleet.members, answers)
    return FleetVerify(fleet.path, fleet.members, answers, point, round(time.monotonic() - started, 2))


def output(found: FleetVerify, as_json: bool) -> str:
    if as_json:
        return json.dumps(found.to_json(), indent=2)
    rows = list(zip(found.members, found.answers, strict=True))
    return template("fleet_verify.txt.j2", f=found, rows=rows).rstrip("\n")


def refuse_unverified(found: FleetVerify) -> None:
    """After the output: VerifyFailed when a member does not verify or the point fails, MemberUnreachable when
    a member gave no answer (and nothing else failed)."""
    failed = [a for a in found.answers if not a.ok and not a.unreachable]
    if failed or (not found.point.ok and not any(a.unreachable for a in found.answers)):
        named = [f"{a.member} ({a.error})" for a in failed] + ([found.point.detail] if not found.point.ok else [])
        raise VerifyFailed(
            f"the fleet does not verify: {'; '.join(named)}",
            "`invoke fleet-release` makes every member run one commit; `invoke fleet-status` shows what runs where",
        )
    unreachable = [a for a in found.answers if a.unreachable]
    if unreachable:
        raise MemberUnreachable(
            f"no verify from {', '.join(f'{a.member} ({a.unreachable})' for a in unreachable)}",
            "check that host and its engine; the members that answered are shown above",
            members=[a.member for a in unreachable],
        )
