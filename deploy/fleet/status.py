"""`invoke fleet-status`: every member at once, each within its timeout, and where the fleet disagrees.

A member's side (`of_member`, in its child): `deploy.steps.status` of its deployment plus what the
fleet needs beside it — the live image's code digest and code layer, the deploy lock's holder, the
last ledger entry, the engine's identity, and which of the fleet's projects have running containers on
this engine (by Compose project, Swarm stack or a mount of their state volume).

The fleet's side (`collect`): every member's answer, or why it gave none (killed at its
`status_timeout`: named unreachable, never holding up the others), and the disagreements (pure,
`disagreements`): members on different commits, and a project whose containers run on an engine
that is not its member's — a second writer of one state.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from deploy.config import Settings
from deploy.engine.compose import PROJECT_LABEL
from deploy.engine.helpers import HELPER_OF
from deploy.engine.runner import Runner
from deploy.errors import MemberUnreachable, TradebotError
from deploy.fleet import children
from deploy.fleet.children import Answer
from deploy.fleet.roster import Fleet, Member
from deploy.ids import short
from deploy.output.render import template
from deploy.records.ledger import Entry
from deploy.records.view import EngineRecords
from deploy.steps import lock
from deploy.steps import status as single

STACK_LABEL = "com.docker.stack.namespace"  # what `docker stack deploy` labels a stack's containers with


def of_member(settings: Settings, engine: docker.DockerClient, projects: Sequence[str]) -> dict[str, Any]:
    """The member's status document (its child's side)."""
    records = EngineRecords(settings, engine)
    with ThreadPoolExecutor(max_workers=3) as pool:
        holder = pool.submit(lock.current, settings, engine)
        running = pool.submit(engine.containers.list)
        engine_id = pool.submit(lambda: identity(engine.info()))
        found = single.status(settings, engine, records)
        entries, _ = single.read_records(records)
        writers = writers_of([c.attrs for c in running.result()], projects)
        return {
            "ok": True,
            "engine_id": engine_id.result(),
            "status": _with_code(found),
            "lock": dataclasses.asdict(holder.result()) if holder.result() else None,
            "last_entry": _entry(entries[-1]) if entries else None,
            "writers": writers,
        }


def identity(info: Mapping[str, Any]) -> str:
    """Which engine answered: its id, host name and data root (engines started from one key share the id; pure)."""
    return " ".join(str(info.get(key, "")) for key in ("ID", "Name", "DockerRootDir"))


def _with_code(found: single.Status) -> dict[str, Any]:
    document = found.to_json()
    if found.release is not None:
        document["release"].update(code_digest=found.release.code_digest, code_layer=found.release.code_layer)
    return document


def _entry(entry: Entry) -> dict[str, str]:
    return {name: getattr(entry, name) for name in ("event", "commit", "outcome", "finished_at", "by", "cause")}


def writers_of(containers: Iterable[Mapping[str, Any]], projects: Sequence[str]) -> dict[str, list[str]]:
    """`{project: [container names]}`: the running containers (inspect data) that write one of `projects`' states.

    A container writes a project's state when Compose or a Swarm stack labels it with the project, or
    it mounts `<project>_state`; the project's own helpers (backups, probes) do not count (pure).
    """
    found: dict[str, list[str]] = {}
    for attrs in containers:
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        mounted = {mount.get("Name") for mount in attrs.get("Mounts") or ()}
        for project in projects:
            if labels.get(HELPER_OF) == project:
                continue
            if project in (labels.get(PROJECT_LABEL), labels.get(STACK_LABEL)) or f"{project}_state" in mounted:
                found.setdefault(project, []).append(str(attrs.get("Name", "")).lstrip("/"))
    return found


@dataclass(frozen=True)
class FleetStatus:
    path: Path
    members: tuple[Member, ...]
    answers: tuple[Answer, ...]
    disagreements: tuple[str, ...]
    seconds: float

    @property
    def unreachable(self) -> list[Answer]:
        return [answer for answer in self.answers if answer.unreachable]

    @property
    def failed(self) -> list[Answer]:
        return [answer for answer in self.answers if not answer.ok and not answer.unreachable]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": not self.unreachable and not self.failed and not self.disagreements,
            "fleet": str(self.path),
            "seconds": self.seconds,
            "members": [_member_json(m, a) for m, a in zip(self.members, self.answers, strict=True)],
            "disagreements": list(self.disagreements),
        }


def _member_json(member: Member, answer: Answer) -> dict[str, Any]:
    return {
        "member": member.name,
        "engine": member.engine,
        "project": member.project,
        "seconds": answer.seconds,
        "unreachable": answer.unreachable,
        "error": "" if answer.ok else answer.error,
        **{key: answer.document.get(key) for key in ("status", "lock", "last_entry", "engine_id")},
    }


def collect(fleet: Fleet, base: Mapping[str, str], repo: Path, runner: Runner | None = None) -> FleetStatus:
    """Ask every member at once (each killed at its `status_timeout`); their answers and the disagreements."""
    started = time.monotonic()
    projects = ",".join(member.project for member in fleet.members)
    envs = {member.name: children.environ(member, base, repo) for member in fleet.members}
    timeouts = {member.name: member.status_timeout for member in fleet.members}
    answers = children.ask_all(fleet.members, envs, ("status", "--projects", projects), timeouts, runner or Runner())
    found = tuple(disagreements(fleet.members, answers))
    return FleetStatus(fleet.path, fleet.members, tuple(answers), found, round(time.monotonic() - started, 2))


def disagreements(members: Sequence[Member], answers: Sequence[Answer]) -> list[str]:
    """Members on different commits; a project whose containers run on another member's engine (pure)."""
    said = {m.name: a.document for m, a in zip(members, answers, strict=True) if a.ok}
    commits = {name: ((doc.get("status") or {}).get("release") or {}).get("commit", "") for name, doc in said.items()}
    found = []
    if len(set(commits.values())) > 1:
        shown = ", ".join(f"{name} {short(commit) if commit else 'nothing'}" for name, commit in commits.items())
        found.append(f"the members run different releases: {shown}")
    return found + list(_second_writers(members, said))


def _second_writers(members: Sequence[Member], said: Mapping[str, Mapping[str, Any]]) -> Iterable[str]:
    home = {m.project: said[m.name].get("engine_id") for m in members if m.name in said}
    for member in members:
        document = said.get(member.name)
        if document is None:
            continue
        for project, names in (document.get("writers") or {}).items():
            if project in home and home[project] != document.get("engine_id"):
                yield (
                    f"{project}'s state has a second writer: {', '.join(names)} on {member.name}'s engine "
                    f"({member.engine}) writes {project}, whose member runs elsewhere"
                )


def render(found: FleetStatus) -> str:
    return template("fleet_status.txt.j2", f=found, rows=list(zip(found.members, found.answers, strict=True)))


def output(found: FleetStatus, as_json: bool) -> str:
    return json.dumps(found.to_json(), indent=2) if as_json else render(found).rstrip("\n")


def refuse_unanswered(found: FleetStatus) -> None:
    """After the output: MemberUnreachable naming each member that gave no answer, else an error for a failed one."""
    if found.unreachable:
        names = ", ".join(f"{a.member} ({a.unreachable})" for a in found.unreachable)
        raise MemberUnreachable(
            f"no status from {names}",
            "check that host and its engine (`DOCKER_HOST=<its engine> invoke status`); the others are shown above",
            members=[a.member for a in found.unreachable],
        )
    if found.failed:
        names = ", ".join(f"{a.member} ({a.error})" for a in found.failed)
        raise TradebotError(f"no status from {names}", "run `invoke status` against that member's engine")
