"""The live state of a deployment, captured read-only: what a plan shows and a report compares before and after.

    release, containers (image id, health)   `deploy.steps.status`
    state file sha256, generation, open positions, command bus size
                                             the state volume, read through the archive API of the
                                             running bot and worker (they mount it; the engine reads
                                             one container's files one at a time, so the files are
                                             spread over both), else of an idle helper
                                             (`deploy.engine.helpers.idle`, mounted read-only)
    lock holder, newest state backup         `deploy.steps.lock`, `deploy.steps.backups`

Capturing changes nothing: no container is started, no volume is created (a missing
state volume is reported as no state).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from deploy.config import SERVICES, STATE_PATH, Settings
from deploy.engine import archive, baseimage, helpers
from deploy.records import ledger
from deploy.records.view import Records
from deploy.steps import backups, lock
from deploy.steps import status as statusreport

STATE_FILE = "live_portfolio.json"
COMMAND_BUS = "commands.sqlite3"
COMMAND_BUS_FILES = (COMMAND_BUS, f"{COMMAND_BUS}-wal")


@dataclass(frozen=True)
class StateFacts:
    sha256: str
    generation: int | None
    open_positions: int | None
    commands: int | None  # rows in the command bus (None: no command bus yet)


@dataclass(frozen=True)
class Snapshot:
    taken_at: str
    status: statusreport.Status
    state: StateFacts | None  # None: no state volume or no state file in it
    lock: lock.Holder | None
    newest_backup: str

    def to_json(self) -> dict[str, Any]:
        return {
            "taken_at": self.taken_at,
            "status": self.status.to_json(),
            "state": asdict(self.state) if self.state else None,
            "lock": asdict(self.lock) if self.lock else None,
            "newest_backup": self.newest_backup,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        """A snapshot as `to_json` stored it (in a report)."""
        state, holder = data.get("state"), data.get("lock")
        return cls(
            str(data.get("taken_at", "")),
            statusreport.Status.from_json(data.get("status") or {}),
            StateFacts(**state) if state else None,
            lock.Holder(**holder) if holder else None,
            str(data.get("newest_backup") or ""),
        )


def state_facts(files: Mapping[str, bytes]) -> StateFacts | None:
    """Facts of the state directory's files (name → content); None without a state file.

    A versioned state file is an envelope (`generation`, `state.positions`); a legacy one is the
    unversioned state itself (`positions` at the top, no generation).
    """
    document = files.get(STATE_FILE)
    if document is None:
        return None
    try:
        envelope = json.loads(document)
        generation, positions = envelope.get("generation"), envelope.get("state", envelope)["positions"]
    except (ValueError, KeyError, TypeError, AttributeError):
        generation, positions = None, None
    return StateFacts(
        hashlib.sha256(document).hexdigest(),
        generation if isinstance(generation, int) else None,
        len(positions) if isinstance(positions, dict | list) else None,  # a legacy document may list them
        count_commands(files),
    )


def count_commands(files: Mapping[str, bytes]) -> int | None:
    """Rows in the command bus, read with sqlite from a copy of its files (its write-ahead log included)."""
    if COMMAND_BUS not in files:
        return None
    with tempfile.TemporaryDirectory(prefix="tradebot-bus-") as tmp:
        for name in COMMAND_BUS_FILES:
            if name in files:
                (Path(tmp) / name).write_bytes(files[name])
        connection = sqlite3.connect(Path(tmp) / COMMAND_BUS)
        try:
            return int(connection.execute("SELECT count(*) FROM commands").fetchone()[0])
        except sqlite3.DatabaseError:
            return None
        finally:
            connection.close()


def read_state(settings: Settings, engine: docker.DockerClient, through: Sequence[str] = ()) -> StateFacts | None:
    """The state files, read through the running service containers `through` (each mounts the state volume).

    Without one (or when one went away), through an idle helper that mounts the volume read-only.
    """
    if through:
        with contextlib.suppress(docker.errors.NotFound):
            return state_facts(_fetch_state([engine.containers.get(name) for name in through], STATE_PATH))
    try:
        engine.volumes.get(settings.state_volume)
    except docker.errors.NotFound:
        return None
    image, mounts = baseimage.resolve(settings, engine), helpers.at_root({settings.state_volume: "ro"})
    name = helpers.unique_name(settings.project, "meta")
    with helpers.idle(engine, image, settings.project, mounts, name=name) as helper:
        return state_facts(_fetch_state([helper], f"/{settings.state_volume}"))


def _fetch_state(containers: Sequence[Container], folder: str) -> dict[str, bytes]:
    """The state file and the command bus (with its write-ahead log) below `folder`, asked at the same time, each
    through the next of `containers` in turn (the engine answers one container's reads one after another)."""
    names = (STATE_FILE, *COMMAND_BUS_FILES)
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        read = [
            pool.submit(archive.fetch, containers[n % len(containers)], f"{folder}/{name}")
            for n, name in enumerate(names)
        ]
        return {name: content for future in read for name, content in future.result().items()}


def capture(settings: Settings, engine: docker.DockerClient, records: Records | None = None) -> Snapshot:
    """The live state now; `records`: the ledger as the command reads it (`deploy.records.view`)."""
    with ThreadPoolExecutor(max_workers=2) as pool:  # round trips to the engine: the backups beside the rest
        listed = pool.submit(backups.listed, settings, engine)
        holder = pool.submit(lock.current, settings, engine)
        status = statusreport.status(settings, engine, records)
        running = [c for c in status.containers if c.state == "running" and c.service in SERVICES]
        # the bot's last: its container also answered the status's read of the bot's heartbeat
        state = read_state(settings, engine, [c.name for c in sorted(running, key=lambda c: c.service == "bot")])
        newest = backups.newest_first(listed.result())
        return Snapshot(ledger.now(), status, state, holder.result(), newest[0].name if newest else "")
