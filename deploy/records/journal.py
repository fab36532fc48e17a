"""The journal of started attempts: a file per deploy, rollback or restore as it starts, its ledger entry its end.

    <project>_meta/journal/<attempt>.json    the attempt's entry as it started (outcome `started`)

An attempt writes its journal file before its first step and its ledger entry (with the same
`attempt` id) once the outcome is known (`deploy.procedures.procedure`); a journal file without a
ledger entry is an attempt killed on the way, which the next changing command undoes
(`deploy.procedures.recover`).
"""

from __future__ import annotations

from collections.abc import Iterable

import docker

from deploy.config import Settings
from deploy.records import meta
from deploy.records.ledger import Entry, parse_files

FOLDER = "journal"
STARTED = "started"  # the outcome in an attempt's journal file


def start(settings: Settings, engine: docker.DockerClient, entry: Entry) -> None:
    """Journal an attempt as it starts (`journal/<attempt>.json`); the ledger entry with its id is its end."""
    meta.write(settings, engine, {f"{FOLDER}/{entry.attempt}.json": entry.to_json().encode()})


def read_started(settings: Settings, engine: docker.DockerClient) -> list[Entry]:
    """Every attempt's journal file, in no particular order."""
    return parse_files(meta.read_folder(settings, engine, FOLDER))


def unfinished(started: Iterable[Entry], entries: Iterable[Entry]) -> list[Entry]:
    """Attempts that started and never recorded their end in the ledger: killed before they finished."""
    ended = {entry.attempt for entry in entries if entry.attempt}
    return sorted((entry for entry in started if entry.attempt not in ended), key=lambda entry: entry.started_at)
