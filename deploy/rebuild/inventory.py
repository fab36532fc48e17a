"""What a volume holds, file by file, and proofs that two of them agree.

An inventory is what `probe.py inventory` printed in a helper container: one `Item` per
entry (file, link, dir, or a special file) with sha256, size, mode and owner, and for an SQLite
database the digest of its tables. Two proofs:

- `differences(expected, actual)`: every path missing, extra or different in any of kind,
  size, mode, owner or sha256 — named by path and field only, never by value (a secret's
  hash must not reach the output). Two SQLite databases are compared by their tables instead of
  size and sha256: one carried whole through SQLite's backup API holds what the source and its
  `-wal` held, in other bytes.
- `carried_as(item, ...)`: what a carried file must look like in the state volume (same bytes,
  the runtime user's, secret mode for secrets).

Pure functions only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from deploy.ids import short

FILE = "file"
DIR = "dir"
COMPARED = ("kind", "size", "mode", "uid", "gid", "sha256")
COMPARED_SQLITE = ("kind", "mode", "uid", "gid", "tables")
SIDECARS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Item:
    path: str
    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    sha256: str | None
    tables: str | None = None  # an SQLite database: the digest of its tables

    def short(self) -> str:
        return short(self.sha256 or "")


Inventory = dict[str, Item]


def parse(output: str) -> Inventory:
    items = (Item(**json.loads(line)) for line in output.splitlines() if line.strip())
    return {item.path: item for item in items}


def files(inventory: Inventory) -> list[Item]:
    """The entries a rebuild classifies: everything but directories, by path."""
    return sorted((item for item in inventory.values() if item.kind != DIR), key=lambda item: item.path)


def differences(expected: Mapping[str, Item], actual: Mapping[str, Item]) -> list[str]:
    """`path: missing`, `path: extra` or `path: size, sha256 differ`, sorted by path; empty when equal."""
    found = [f"{path}: missing" for path in expected.keys() - actual.keys()]
    found += [f"{path}: extra" for path in actual.keys() - expected.keys()]
    for path in expected.keys() & actual.keys():
        both = expected[path].tables is not None and actual[path].tables is not None
        compared = COMPARED_SQLITE if both else COMPARED
        fields = [name for name in compared if getattr(expected[path], name) != getattr(actual[path], name)]
        if fields:
            found.append(f"{path}: {', '.join(fields)} differ")
    return sorted(found)


def carried_as(item: Item, to: str, uid: int, gid: int, mode: int | None = None) -> Item:
    """`item` copied to `to`, owned by uid:gid, with `mode` (None: its own)."""
    return dataclasses.replace(item, path=to, uid=uid, gid=gid, mode=item.mode if mode is None else mode)


def database_of(path: str, found: Mapping[str, Item]) -> str | None:
    """The SQLite database `path` is the `-wal`, `-shm` or `-journal` file of, if it is one."""
    for suffix in SIDECARS:
        main = path.removesuffix(suffix)
        if path.endswith(suffix) and main in found and found[main].tables is not None:
            return main
    return None


def total_size(items: Iterable[Item]) -> int:
    return sum(item.size for item in items)
