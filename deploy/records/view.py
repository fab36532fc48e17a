"""The deployment's records as one command sees them: the port procedures read and write them through.

`Records` is the port: the ledger's entries, the journal of started attempts, the build records, and
the writes — an attempt's start, its end with its report, a report written again. Procedures get one injected
(`Deployment.records`); tests hand them an in-memory one (`testsupport.records.MemoryRecords`).

`EngineRecords` keeps them in the meta volume (`deploy.records.meta`), behind an archive read of a
helper container each time they are asked. A command asks many times (status, the snapshot before
and after, the preflight, the journal, the image's build record, retention); it reads the three
folders at the first question, through one helper, and answers every later one from what it read
plus what it wrote since.

That is exact while nobody else writes: under the deploy lock (deploy, rollback, restore and
what they walk), and for a command that only reads (status, a plan, verify), which shows one
moment's ledger either way. Reading is lazy, so a lock taken first (and the local ledger it
carries over) comes before the read.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import docker

from deploy.config import Settings
from deploy.records import builds, journal, ledger, meta
from deploy.records.builds import Build
from deploy.records.ledger import Entry


class Records(Protocol):
    def entries(self) -> list[Entry]:
        """Every ledger entry, oldest first."""
        ...

    def started(self) -> list[Entry]:
        """Every attempt's journal file."""
        ...

    def builds(self) -> list[Build]:
        """Every build record (`deploy.records.builds`)."""
        ...

    def start(self, entry: Entry) -> None:
        """Journal an attempt as it starts."""
        ...

    def append(self, entry: Entry, files: Mapping[str, bytes] | None = None, key: str | None = None) -> str:
        """Add `entry` to the ledger (with `files`, e.g. its report, in the same write); its id."""
        ...

    def write(self, files: Mapping[str, bytes]) -> None:
        """Write files beside the ledger (a report written again once its attempt's last step ran)."""
        ...

    def read(self, path: str) -> bytes | None:
        """One file beside the ledger (a release record), None when there is none."""
        ...


@dataclass
class EngineRecords:
    settings: Settings
    engine: docker.DockerClient
    _read: tuple[list[Entry], list[Entry], list[Build]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def entries(self) -> list[Entry]:
        """Every ledger entry, oldest first (`ledger.read`)."""
        return list(self._load()[0])

    def started(self) -> list[Entry]:
        """Every attempt's journal file (`journal.read_started`)."""
        return list(self._load()[1])

    def builds(self) -> list[Build]:
        """Every build record (`builds.read`); a build in this command comes before the first question."""
        return list(self._load()[2])

    def append(self, entry: Entry, files: Mapping[str, bytes] | None = None, key: str | None = None) -> str:
        """`ledger.append`, and the entry is in `entries` from now on."""
        key = ledger.append(self.settings, self.engine, entry, files, key=key)
        with self._lock:
            if self._read is not None:
                self._read[0].append(entry)
        return key

    def start(self, entry: Entry) -> None:
        """`journal.start`, and the entry is in `started` from now on."""
        journal.start(self.settings, self.engine, entry)
        with self._lock:
            if self._read is not None:
                self._read[1].append(entry)

    def write(self, files: Mapping[str, bytes]) -> None:
        meta.write(self.settings, self.engine, files)

    def read(self, path: str) -> bytes | None:
        return meta.read_file(self.settings, self.engine, path)

    def _load(self) -> tuple[list[Entry], list[Entry], list[Build]]:
        with self._lock:
            if self._read is None:
                found = meta.read_folders(self.settings, self.engine, (ledger.FOLDER, journal.FOLDER, builds.FOLDER))
                self._read = (
                    ledger.parse_files(found[ledger.FOLDER]),
                    ledger.parse_files(found[journal.FOLDER]),
                    builds.parse_files(found[builds.FOLDER]),
                )
            return self._read
