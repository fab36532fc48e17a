"""The deployment's records in memory: the `Records` port (`deploy.records.view`) without an engine.

What a procedure wrote is kept as it would be on the engine — the entries, the journal, every file by
its path (a report written twice: its newest text) — and every write as it was made, in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from deploy.records import ledger
from deploy.records.builds import Build
from deploy.records.ledger import Entry


@dataclass
class MemoryRecords:
    ledger: list[Entry] = field(default_factory=list)
    journal: list[Entry] = field(default_factory=list)
    built: list[Build] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    writes: list[dict[str, bytes]] = field(default_factory=list)  # each write's files, in order

    def entries(self) -> list[Entry]:
        return list(self.ledger)

    def started(self) -> list[Entry]:
        return list(self.journal)

    def builds(self) -> list[Build]:
        return list(self.built)

    def start(self, entry: Entry) -> None:
        self.journal.append(entry)

    def append(self, entry: Entry, files: Mapping[str, bytes] | None = None, key: str | None = None) -> str:
        key = key or ledger.new_id()
        self.ledger.append(entry)
        self.write({f"{ledger.FOLDER}/{key}.json": entry.to_json().encode(), **(files or {})})
        return key

    def write(self, files: Mapping[str, bytes]) -> None:
        self.files.update(files)
        self.writes.append(dict(files))

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)
