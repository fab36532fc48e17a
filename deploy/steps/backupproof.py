"""A state backup counts only when complete: written, then proven, then marked.

    written   statecopy copies the state volume into the backup volume and prints its manifest: every
              entry it wrote (path, kind, size, sha256, the tables of an SQLite database) and every
              entry it skipped, with the reason (`deploy.engine.scripts.statecopy`)
    proven    the backup volume is read again by the probe (`probe inventory`, in the same helper right
              after the copy): every entry the manifest names is there, of its kind, size and sha256
              (an SQLite database: its tables), and nothing else is (`differences`)
    marked    `<project>_meta:/backups/<name>.json` is written: {name, of, created, files, bytes, proven_at}

A backup volume made by this version carries `PROOF_LABEL`; without its marker it is incomplete (a
kill between any two of the steps above, or a proof that failed) and is never restored nor counted as
kept. A backup volume from before proofs has no label: listed as unproven, restorable as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import docker

from deploy.config import Settings
from deploy.engine import scripts
from deploy.records import meta

FOLDER = "backups"
PROOF_LABEL = "io.tradebot.proof"  # value `marker`: complete only with its marker in the meta volume
SEPARATOR = "--- inventory of the copy"


@dataclass(frozen=True)
class Marker:
    name: str
    of: str  # the volume it copies
    created: str
    files: int
    bytes: int
    proven_at: str

    @property
    def path(self) -> str:
        return f"{FOLDER}/{self.name}.json"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def command() -> list[str]:
    """Copy /from into /to (statecopy, its manifest), then read /to again (the probe's inventory), one helper."""
    copy, probe = scripts.argv("statecopy", "/from", "/to"), scripts.argv("probe", "inventory", "/to")
    script = 'python3 -I -c "$1" /from /to && echo "$0" && python3 -I -c "$2" inventory /to'
    return ["sh", "-c", script, SEPARATOR, _source(copy), _source(probe)]


def _source(argv: list[str]) -> str:
    """The program text in a `scripts.argv` command (`python3 [-I] -c SOURCE …`)."""
    return argv[argv.index("-c") + 1]


def split(stdout: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The manifest and the inventory printed by `command`, one JSON object a line each."""
    manifest, _, inventory = stdout.decode(errors="replace").partition(SEPARATOR + "\n")
    return _objects(manifest), _objects(inventory)


def _objects(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def differences(manifest: Iterable[Mapping[str, Any]], inventory: Iterable[Mapping[str, Any]]) -> list[str]:
    """What the backup volume holds other than the manifest says it was given (pure); empty when proven."""
    wanted = {str(entry["path"]): entry for entry in manifest if not entry.get("skipped")}
    found = {str(entry["path"]): entry for entry in inventory if entry.get("path") != "."}
    problems = [f"{path}: missing" for path in sorted(wanted.keys() - found.keys())]
    problems += [f"{path}: not in the manifest" for path in sorted(found.keys() - wanted.keys())]
    for path in sorted(wanted.keys() & found.keys()):
        problems += [
            f"{path}: {key} differs" for key in _compared(wanted[path]) if wanted[path][key] != found[path].get(key)
        ]
    return problems


def _compared(entry: Mapping[str, Any]) -> list[str]:
    keys = ["kind", "size", "sha256"] if entry.get("tables") is None else ["kind", "tables"]
    return [key for key in keys if key in entry]


def marker(name: str, of: str, created: str, manifest: list[dict[str, Any]], now: str) -> Marker:
    copied = [entry for entry in manifest if not entry.get("skipped") and entry.get("kind") == "file"]
    return Marker(name, of, created, len(copied), sum(int(entry.get("size") or 0) for entry in copied), now)


def write(settings: Settings, engine: docker.DockerClient, found: Marker) -> None:
    meta.write(settings, engine, {found.path: found.to_json().encode()})


def read_all(settings: Settings, engine: docker.DockerClient) -> dict[str, Marker]:
    """Every backup's marker, by backup name; a file that is no marker is skipped."""
    found = {}
    for text in meta.read_folder(settings, engine, FOLDER).values():
        try:
            data = json.loads(text)
            found[data["name"]] = Marker(**data)
        except (ValueError, TypeError, KeyError):
            continue
    return found
