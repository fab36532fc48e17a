"""The release ledger: one JSON document per deploy, rollback or restore attempt, added and never rewritten.

It lives on the engine with the deployment (`deploy.records.meta`: `<project>_meta:/ledger/<id>.json`),
so every clone, CI runner and laptop using that engine sees one history. One file per
entry: an append never rewrites what is there, and a crash leaves whole entries only.
An older version's local ledger is carried over once (`carry_over`).
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import docker

from deploy.config import Settings
from deploy.ids import short
from deploy.output import render
from deploy.records import meta

FOLDER = "ledger"
LEGACY_FILENAME = "releases.jsonl"
SUCCEEDED = "succeeded"
REFUSED = "refused"  # nothing that ran was stopped
ROLLED_BACK = "rolled_back"  # it took over, failed, and the release from before runs again, verified
FAILED = "failed"  # nothing ran before it, and nothing runs; or an attempt killed on the way, undone
ROLLBACK_FAILED = "rollback_failed"  # nothing verified runs
RELEASE_EVENTS = ("deploy", "rollback", "restore")  # others (volume-rebuild, volume-retire) put no release live
COLUMNS = ("finished_at", "event", "commit", "outcome", "previous", "by", "state", "cause")


@dataclass(frozen=True)
class Tried:
    """What the ledger says about release images, by image id: which went live once, which only failed."""

    succeeded: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Entry:
    event: str
    commit: str
    image_id: str
    code_digest: str
    started_at: str
    finished_at: str
    by: str
    outcome: str
    cause: str = ""
    previous: str = ""
    dirty: bool = False
    backup: str = ""
    restored_from: str = ""
    runtime: dict[str, str] | None = None  # the runtime settings it ran with (`config.runtime`); None: not recorded
    attempt: str = ""  # one id for an attempt's `started` entry and its end (the deploy journal)
    report: str = ""  # the id of its report (`<project>_meta:/reports/<id>.json`)
    code_layer: str = ""  # the diff_id of the image's code layer (its provenance: computable from the commit)
    evidence: list[dict[str, Any]] | None = None  # each failed container's end (`deploy.engine.observe.Evidence`)
    layers: tuple[str, ...] = ()  # every layer's diff_id (`RootFS.Layers`): the whole image (`deploy.records.builds`)
    policy: str = ""  # sha256 of the security policy it was judged by (`deploy.policy.rules.digest`)

    @classmethod
    def from_json(cls, line: str) -> Entry:
        """Raises ValueError (or TypeError, for a missing field) when the line is no entry."""
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError(f"not a ledger entry: {line[:40]!r}")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        """The entry of a decoded JSON object; fields it does not know are ignored. TypeError: one is missing."""
        names = {field.name for field in dataclasses.fields(cls)}
        found = {key: value for key, value in data.items() if key in names}
        return cls(**{**found, "layers": tuple(found.get("layers") or ())})

    @property
    def is_release(self) -> bool:
        return self.event in RELEASE_EVENTS

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry, e.g. in a CI container
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def entry_id(at: datetime, token: str) -> str:
    """`<UTC time to the microsecond>Z-<token>`: ids sort in the order the entries were written."""
    return f"{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%f')}Z-{token}"


def new_id() -> str:
    return entry_id(datetime.now(UTC), uuid.uuid4().hex[:8])


def append(
    settings: Settings,
    engine: docker.DockerClient,
    entry: Entry,
    files: Mapping[str, bytes] | None = None,
    key: str | None = None,
) -> str:
    """Add `entry` (and `files`, e.g. its report, in the same archive) to the engine's ledger; its id."""
    key = key or new_id()
    meta.write(settings, engine, {f"{FOLDER}/{key}.json": entry.to_json().encode(), **(files or {})})
    return key


def read(settings: Settings, engine: docker.DockerClient) -> list[Entry]:
    """Every entry, oldest first; a file that is no entry is skipped (a command asking often: `deploy.records.view`)."""
    return parse_files(meta.read_folder(settings, engine, FOLDER))


def parse_files(found: Mapping[str, bytes]) -> list[Entry]:
    """The entries of a ledger or journal folder's files, in the order of their names (ids sort by time)."""
    return parse(found[name].decode(errors="replace") for name in sorted(found))


def parse(texts: Iterable[str]) -> list[Entry]:
    entries = []
    for text in texts:
        try:
            entries.append(Entry.from_json(text))
        except (ValueError, TypeError):
            continue
    return entries


def carry_over(settings: Settings, engine: docker.DockerClient) -> int:
    """Copy the ledger an older version kept in `<home>/<project>/releases.jsonl` to the engine, once.

    The local file is renamed `releases.jsonl.carried-over` afterwards; ids come from each
    entry's time and content, so a carry-over interrupted before the rename repeats harmlessly.
    """
    local = settings.data_dir / LEGACY_FILENAME
    try:
        lines = local.read_text().splitlines()
    except FileNotFoundError:
        return 0
    entries = parse(lines)
    if entries:
        files = {f"{FOLDER}/{carried_id(entry)}.json": entry.to_json().encode() for entry in entries}
        meta.write(settings, engine, files)
    local.rename(local.with_name(LEGACY_FILENAME + ".carried-over"))
    return len(entries)


def carried_id(entry: Entry) -> str:
    try:
        at = datetime.fromisoformat(entry.finished_at)
    except ValueError:
        at = datetime.fromtimestamp(0, UTC)
    return entry_id(at, "local" + hashlib.sha256(entry.to_json().encode()).hexdigest()[:8])


def last_success_before(entries: Iterable[Entry], commit: str) -> Entry | None:
    """The newest successful release of a commit other than `commit`."""
    for entry in reversed(list(entries)):
        if entry.is_release and entry.outcome == SUCCEEDED and entry.commit != commit:
            return entry
    return None


def runtime_of(entries: Iterable[Entry], image_id: str) -> dict[str, str] | None:
    """The runtime settings the newest success of `image_id` ran with; None when none is recorded."""
    for entry in reversed(list(entries)):
        if entry.is_release and entry.outcome == SUCCEEDED and entry.image_id == image_id:
            return entry.runtime
    return None


def tried(entries: Iterable[Entry]) -> Tried:
    """Release images that went live at least once, and those whose every attempt failed (for retention)."""
    attempts = [entry for entry in entries if entry.is_release]
    succeeded = frozenset(entry.image_id for entry in attempts if entry.outcome == SUCCEEDED)
    return Tried(succeeded, frozenset(entry.image_id for entry in attempts) - succeeded)


def table(entries: Iterable[Entry]) -> str:
    return "\n".join(render.table([COLUMNS, *(_row(entry) for entry in entries)]))


def _row(entry: Entry) -> tuple[str, ...]:
    return (
        entry.finished_at,
        entry.event,
        short(entry.commit) + ("-dirty" if entry.dirty else ""),
        entry.outcome,
        short(entry.previous),
        entry.by,
        _state(entry),
        entry.cause,
    )


def _state(entry: Entry) -> str:
    """Which state backup the attempt made (deploy, rollback) or put back (restore), by its time."""
    if entry.restored_from:
        return "from " + entry.restored_from.rpartition("-backup-")[2]
    return "backup " + entry.backup.rpartition("-backup-")[2] if entry.backup else ""
