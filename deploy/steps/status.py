"""`invoke status`: what is live, since when, and how its containers and the bot are doing.

Read-only. It says where what runs, the live tag and the ledger disagree (an interrupted attempt,
a container of another image, a live tag that is not the ledger's last success, a container but the
deployment's own that mounts its state, one but the pipeline's that mounts its meta volume:
`deploy.steps.writers`). The release is the one that runs (the live image's, but while an attempt in
progress has tagged its own image live and not taken over, the one it replaces), from its labels; when
it was deployed from the ledger (`deploy.records.ledger`, through the command's `deploy.records.view`, read defensively:
status must work on a damaged or missing ledger); the rest from the engine and the bot's heartbeat in
the state volume.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import docker
from docker.models.containers import Container

from deploy.config import Settings
from deploy.engine.client import compose_described
from deploy.engine.compose import PROJECT_LABEL, SERVICE_LABEL
from deploy.engine.helpers import pid_alive
from deploy.errors import TradebotError
from deploy.ids import short
from deploy.output.render import template
from deploy.policy import rules
from deploy.records import journal, ledger
from deploy.records.view import EngineRecords, Records
from deploy.steps import casting, heartbeats, lock, occupants, roles, tags, writers
from deploy.steps.casting import Role
from deploy.steps.images import ReleaseImage


@dataclass(frozen=True)
class ContainerState:
    name: str
    service: str
    state: str
    health: str
    image_id: str
    started_at: str
    stage: str = ""  # its newest stage line's ('' when its log's tail has none)
    role: str = ""  # `deploy.steps.casting`'s: live, standby, beside, stopped ('' for a service it does not judge)
    note: str = ""  # what it is, for every role but live


@dataclass(frozen=True)
class Heartbeat:
    age_seconds: float
    ticks: int


@dataclass(frozen=True)
class Status:
    project: str
    release: ReleaseImage | None
    deployed_at: str  # when the live release last became live, from the ledger ('' when not in it)
    containers: tuple[ContainerState, ...]
    bot: Heartbeat | None
    disagreements: tuple[str, ...] = ()  # where what runs, `:live` and the ledger do not agree
    in_progress: str = ""  # the deploy, rollback, restore … holding the deploy lock now, its holder and since when
    compose: str = ""  # which Compose this tool runs (`deploy.engine.client.compose_described`)

    def to_json(self) -> dict[str, Any]:
        return {
            "deployed": self.release is not None,
            "project": self.project,
            "release": _release_json(self.release, self.deployed_at) if self.release else None,
            "containers": [asdict(c) for c in self.containers],
            "bot": asdict(self.bot) if self.bot else None,
            "disagreements": list(self.disagreements),
            "in_progress": self.in_progress,
            "compose": self.compose,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Status:
        """A status as `to_json` stored it (in a report): the release as far as it was kept."""
        release = data.get("release")
        bot = data.get("bot")
        return cls(
            str(data.get("project", "")),
            _release(release) if release else None,
            str((release or {}).get("deployed_at", "")),
            tuple(_container(c) for c in data.get("containers") or ()),
            Heartbeat(float(bot["age_seconds"]), int(bot["ticks"])) if bot else None,
            tuple(data.get("disagreements") or ()),
            str(data.get("in_progress", "")),
            str(data.get("compose", "")),
        )


def _release(data: Mapping[str, Any]) -> ReleaseImage:
    return ReleaseImage(
        str(data.get("image_id", "")),
        str(data.get("commit", "")),
        "",
        bool(data.get("dirty")),
        version=str(data.get("version", "")),
        built_at=str(data.get("built_at", "")),
    )


def _container(data: Mapping[str, Any]) -> ContainerState:
    fields = ("name", "service", "state", "health", "image_id", "started_at", "stage", "role", "note")
    return ContainerState(*(str(data.get(name, "")) for name in fields))


def _release_json(release: ReleaseImage, deployed_at: str) -> dict[str, Any]:
    fields = ("commit", "image_id", "version", "dirty", "built_at")
    return {**{name: getattr(release, name) for name in fields}, "deployed_at": deployed_at}


def deployed_at(entries: Iterable[ledger.Entry], commit: str, image_id: str) -> str:
    """When the live release last became live: the newest successful ledger entry of its image."""
    for entry in reversed(list(entries)):
        if (
            entry.is_release
            and entry.outcome == ledger.SUCCEEDED
            and entry.commit == commit
            and entry.image_id in ("", image_id)
        ):
            return entry.finished_at
    return ""


def disagreements(
    live: ReleaseImage | None,
    containers: Iterable[ContainerState],
    entries: Iterable[ledger.Entry],
    started: Iterable[ledger.Entry] = (),
    running: bool = False,
    runs: str = "",
) -> list[str]:
    """Where what runs, the live tag and the ledger (and its journal of `started` attempts) disagree (pure).

    `running`: an attempt holds the deploy lock now, so an unfinished one is in progress, not interrupted.
    `runs`: the image of the release that runs (`casting.live_image`), when not the live tag's.
    """
    listed, shown = list(entries), list(containers)
    found = [
        f"an interrupted {e.event} of {short(e.commit)} started {e.started_at} by {e.by} never finished; "
        "the next deploy, rollback or restore undoes it"
        for e in ([] if running else journal.unfinished(started, listed))
    ]
    if live is not None:
        image = runs or live.image_id
        found += [
            f"{c.service} runs image {short(c.image_id)}, not the live image {short(image)}"
            for c in shown
            if c.image_id != image and c.role not in (casting.ARRIVING, casting.BESIDE)
        ]
    found += [c.note for c in shown if c.role == casting.BESIDE]
    last = ledger.last_success_before([e for e in listed if e.image_id], "")
    # an attempt in progress tags its image live before it records its outcome
    if not running and last is not None and (live is None or live.image_id != last.image_id):
        found.append(f"the ledger's last success is {short(last.commit)}, but {_tag_name(live)} is live")
    return found


def undeclared(containers: Iterable[ContainerState], declared: Iterable[str]) -> list[str]:
    """A container of the project whose service the policy does not declare (pure; verify judges it)."""
    services = set(declared)
    return [
        f"{c.name} is of service {c.service or '(none)'}, which the policy does not declare"
        for c in containers
        if c.service not in services
    ]


def in_progress(holder: lock.Holder | None, here: str, alive: Callable[[int], bool]) -> str:
    """What holds the deploy lock now, by whom and since when; "" when nothing does or its holder died here (pure)."""
    if holder is None or lock.dead_here(holder, here, alive):
        return ""
    elsewhere = " (if it died there: `tradebot unlock`)" if holder.host != here else ""
    what = holder.what or "a deploy"
    return (
        f"{what} in progress: held by {holder.by} on {holder.host} (pid {holder.pid}) since {holder.since}{elsewhere}"
    )


def _tag_name(live: ReleaseImage | None) -> str:
    return short(live.commit) if live else "nothing"


def read_records(records: Records) -> tuple[list[ledger.Entry], list[ledger.Entry]]:
    """The ledger and the journal of started attempts, or nothing when they cannot be read (status must not fail)."""
    try:
        return records.entries(), records.started()
    except (docker.errors.DockerException, TradebotError):
        return [], []


def container_state(attrs: Mapping[str, Any], role: Role | None = None) -> ContainerState:
    """One container as status shows it; `role`: the part it plays (`casting.cast`), with its stage."""
    state = attrs.get("State") or {}
    return ContainerState(
        name=str(attrs.get("Name", "")).lstrip("/"),
        service=((attrs.get("Config") or {}).get("Labels") or {}).get(SERVICE_LABEL, ""),
        state=state.get("Status", ""),
        health=(state.get("Health") or {}).get("Status", "none"),
        image_id=attrs.get("Image", ""),
        started_at=state.get("StartedAt", ""),
        stage=(role.seen.stage or "") if role else "",
        role=role.role if role else "",
        note=role.why if role else "",
    )


def heartbeat_of(beat: Mapping[str, Any], now: float) -> Heartbeat:
    return Heartbeat(round(now - float(beat.get("last_tick_ts") or 0.0), 1), int(beat.get("ticks") or 0))


def status(settings: Settings, engine: docker.DockerClient, records: Records | None = None) -> Status:
    """Each question asked once, the independent ones at the same time (they are round trips to the engine).

    `records`: the ledger as the command reads it (`deploy.records.view`); else read here.
    """
    with ThreadPoolExecutor(max_workers=8) as pool:
        read = pool.submit(read_records, records or EngineRecords(settings, engine))
        found = pool.submit(tags.get, engine, settings.live_image)
        holder, compose = pool.submit(lock.current, settings, engine), pool.submit(compose_described, settings)
        others = pool.submit(occupants.lines, settings, engine)  # a stack of its name, a move away
        declared = tuple(rules.load().services)
        writing = pool.submit(writers.foreign_all, settings, engine, declared)
        containers = engine.containers.list(
            ignore_removed=True, all=True, filters={"label": f"{PROJECT_LABEL}={settings.project}"}
        )
        looked = pool.submit(roles.seen, engine, containers)
        live, (entries, started) = found.result(), read.result()
        runs, cast = _cast(
            settings, live, looked.result(), roles.arriving_of(holder.result(), started, entries), entries
        )
        states = _states(containers, cast)
        bot = pool.submit(_bot_heartbeat, containers, cast)
        shown = _running_release(engine, live, runs)
        when = deployed_at(entries, shown.commit, shown.image_id) if shown else ""
        running = in_progress(holder.result(), socket.gethostname(), pid_alive)
        said, (state_writers, meta_writers) = others.result(), writing.result()
        disagree = (
            *disagreements(live, states, entries, started, running=bool(running), runs=runs),
            *undeclared(states, declared),
            *said,
            *writers.lines({**state_writers, **meta_writers}, already=said),
        )
        return Status(settings.project, shown, when, states, bot.result(), disagree, running, compose.result())


def _running_release(engine: docker.DockerClient, live: ReleaseImage | None, runs: str) -> ReleaseImage | None:
    """The release that runs: `:live`'s, unless an attempt in progress already tagged its own image live."""
    if live is None or not runs or runs == live.image_id:
        return live
    return tags.get(engine, runs) or live


def _cast(
    settings: Settings,
    live: ReleaseImage | None,
    looked: list[casting.Seen],
    arriving: casting.Arriving | None,
    entries: list[ledger.Entry],
) -> tuple[str, dict[str, Role]]:
    """The image of the release that runs, and each container's role by id (`casting`)."""
    runs = casting.live_image(live.image_id, arriving, roles.last_success(entries), looked) if live else ""
    cast = casting.cast(looked, runs, roles.stable(settings), arriving)
    return runs, {role.seen.id: role for found in cast.values() for role in found}


def _states(containers: Iterable[Container], cast: Mapping[str, Role]) -> tuple[ContainerState, ...]:
    found = (container_state(c.attrs, cast.get(c.id or "")) for c in containers)
    return tuple(sorted(found, key=lambda s: (s.service, s.role != casting.LIVE, s.name)))


def _bot_heartbeat(containers: Iterable[Container], cast: Mapping[str, Role]) -> Heartbeat | None:
    """The live bot's heartbeat: the holder of the bot's lock writes the role's file."""
    bots = [c for c in containers if c.labels.get(SERVICE_LABEL) == "bot" and _role(cast, c) == casting.LIVE]
    if not bots:
        return None
    try:
        return heartbeat_of(heartbeats.read(bots[0]), time.time())
    except heartbeats.UNREADABLE:
        return None


def _role(cast: Mapping[str, Role], container: Container) -> str:
    found = cast.get(container.id or "")
    return found.role if found else ""


def render(status: Status) -> str:
    return template("status.txt.j2", s=status).rstrip("\n")


def output(status: Status, as_json: bool) -> str:
    return json.dumps(status.to_json(), indent=2) if as_json else render(status)
