"""``StateStore``: the crash-safe, cross-process store of the state document.

    store = StateStore(state_dir / "live_portfolio.json")
    with store.transaction() as state:      # exclusive flock, loaded fresh, saved atomically
        state["positions"]["BTCUSDT"]["stop_loss"] = 61000.0

A save links the previous file as a backup, writes a unique temp, fsyncs, renames and fsyncs
the directory.  A bad primary is quarantined and the newest valid backup restored (ERROR log,
``corrupt_fallback_count``); with no valid copy at all the store raises ``NoValidStateError``.
A legacy document is kept as a backup and migrated; a newer one is refused untouched.

Every save checks the state's shape and numbers first (``InvalidStateError``: nothing written),
moves trades beyond the document's share to the archive (``trading.store.archive``), and takes a
generation past every backup and every generation this store saw, so numbers never repeat or go
back, even after a backup was copied over the primary by hand.  A primary this store wrote and
that is unchanged since (same inode, size and times) is neither re-read nor re-verified.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from trading.errors import CorruptStateError, InvalidStateError, NoValidStateError, StateWriteError
from trading.store import backups
from trading.store.archive import TradeArchive, segments
from trading.store.atomic import clean_stale_temps, replace_file
from trading.store.document import Document, State, decode, encode, is_legacy, parse, utcnow, validate_state
from trading.store.locking import exclusive, open_lock, self_test
from trading.store.migrations import inferences, migrate_legacy

log = logging.getLogger("trading.store.persistence")


@dataclass
class Pending:
    """One locked read-modify-write: set ``state`` to what should be saved, or ``abort()``."""

    state: State
    generation: int
    settings_hash: str | None
    aborted: bool = False

    def abort(self) -> None:
        self.aborted = True


@dataclass
class StoreCounters:
    corrupt_fallback_count: int = 0
    migrated_count: int = 0
    settings_changed_count: int = 0
    last_fallback: dict = field(default_factory=dict)


class StateStore:
    def __init__(self, path: Path, *, settings_hash: str | None = None, keep_backups: int = 10) -> None:
        self.path = Path(path)
        self.settings_hash = settings_hash
        self.keep_backups = keep_backups
        self.backup_dir = self.path.parent / "backups"
        self.quarantine_dir = self.path.parent / "corrupt"
        self.archive = TradeArchive(self.path.parent / "trades")
        for directory in (self.path.parent, self.backup_dir, self.quarantine_dir, self.archive.directory):
            directory.mkdir(parents=True, exist_ok=True)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.counters = StoreCounters()
        self.last_generation = 0
        self._warned_settings: set[str] = set()
        self._written: tuple[tuple[int, ...], bytes, Document] | None = None
        self._fd = open_lock(self.lock_path)
        self_test(self._fd, self.lock_path)
        with exclusive(self._fd):
            clean_stale_temps(self.path)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self) -> Document:
        """The current document; recovery or migration, when needed, happens under the lock."""
        try:
            doc = self._read_primary()
        except (FileNotFoundError, CorruptStateError, LegacyFound):
            with exclusive(self._fd):
                doc = self._load_locked()
        self.last_generation = doc.generation
        return doc

    @contextlib.contextmanager
    def update(self) -> Iterator[Pending]:
        """Locked read-modify-write; saves ``pending.state`` unless the block raises or aborts."""
        with exclusive(self._fd):
            doc = self._load_locked(take=True)
            pending = Pending(doc.state, doc.generation, doc.settings_hash)
            yield pending
            if not pending.aborted:
                self._write(pending.state, doc.generation, pending.settings_hash)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        with self.update() as pending:
            yield pending.state

    def initialize(self, state: State, *, force: bool = False) -> Document:
        """Write a first state; refuses where any trace of an earlier state exists unless ``force``.

        The earlier state's trade archive is retired (kept aside): the new state's books start empty.
        """
        with exclusive(self._fd):
            traces = self._traces()
            if traces and not force:
                raise NoValidStateError(self.path, [f"found {t.name}" for t in traces[:3]])
            retired = self.archive.retire()
            if retired is not None:
                log.warning("the earlier state's closed-trades archive is kept aside in %s", retired)
            generation = self._write(state, max((backups.generation_of(t) for t in traces), default=0), None)
            log.warning("initialised a new state at %s (generation %d)", self.path, generation)
            return Document(state, generation, settings_hash=self.settings_hash)

    def _traces(self) -> list[Path]:
        found = [self.path] if self.path.exists() else []
        found += backups.newest_first(self.path, self.backup_dir) + sorted(self.quarantine_dir.iterdir())
        return found + segments(self.archive.directory)

    def _read_primary(self, take: bool = False) -> Document:
        """The primary; the file this store wrote and checked, unchanged since, is neither re-read nor re-verified.

        ``take`` hands out the very state object written last (no copy) and forgets it, for a caller
        that will replace the file or give up; other callers get a fresh copy.
        """
        written = self._written
        if written is not None and identity(os.stat(self.path)) == written[0]:
            known = written[2]
            if take:
                self._written = None
                return known
            return Document(
                parse(written[1])["state"], known.generation, known.version, known.settings_hash, known.saved_at
            )
        parsed = parse(self.path.read_bytes())
        if is_legacy(parsed):
            raise LegacyFound()
        doc = decode(parsed, str(self.path))
        self._check_settings(doc)
        return doc

    def _load_locked(self, take: bool = False) -> Document:
        try:
            return self._read_primary(take)
        except FileNotFoundError:
            return self._fall_back("primary missing")
        except LegacyFound:
            return self._migrate()
        except CorruptStateError as exc:
            where = backups.quarantine(self.path, self.quarantine_dir, exc.reason)
            log.error("state primary is corrupt (%s); kept aside as %s", exc.reason, where)
            return self._fall_back(exc.reason)

    def _fall_back(self, reason: str) -> Document:
        tried = [f"primary: {reason}"]
        for candidate in backups.newest_first(self.path, self.backup_dir):
            try:
                doc = decode(parse(candidate.read_bytes()), str(candidate))
            except CorruptStateError as exc:
                tried.append(f"{candidate.name}: {exc.reason}")
                continue
            return self._restore(candidate, doc, reason)
        raise NoValidStateError(self.path, tried)

    def _restore(self, candidate: Path, doc: Document, reason: str) -> Document:
        generation = self._write(doc.state, doc.generation, doc.settings_hash)
        self.counters.corrupt_fallback_count += 1
        self.counters.last_fallback = {"reason": reason, "restored_from": candidate.name}
        log.error("state restored from backup %s as generation %d (primary: %s)", candidate.name, generation, reason)
        return Document(doc.state, generation, settings_hash=doc.settings_hash)

    def _migrate(self) -> Document:
        legacy = parse(self.path.read_bytes())
        state = migrate_legacy(legacy)  # type: ignore[arg-type]
        kept = backups.copy_aside(self.path, self.backup_dir, "legacy")
        generation = self._write(state, 0, self.settings_hash)
        self.counters.migrated_count += 1
        log.warning("migrated legacy state %s to the current schema; the original is kept as %s", self.path, kept)
        for inferred in inferences(legacy):  # type: ignore[arg-type]
            log.warning("legacy state %s: %s", self.path, inferred)
        return Document(state, generation, settings_hash=self.settings_hash)

    def _write(self, state: State, after: int, settings_hash: str | None) -> int:
        """Save ``state`` as the next generation past ``after``, every backup and every save seen; return it.

        Trades beyond the document's share go to the archive first; ``state`` takes the saved form
        (in place) only once the file is written.
        """
        names = backups.names_newest_first(self.path, self.backup_dir)
        generation = max(after, backups.highest(names), self.last_generation) + 1
        saved, old = self.archive.split(state)
        doc = Document(saved, generation, settings_hash=self.settings_hash or settings_hash, saved_at=utcnow())
        data = checked_bytes(doc)
        self._written = None
        linked: list[str] = []

        def link() -> None:
            name = backups.link_backup(self.path, self.backup_dir, generation - 1)
            linked.extend([name] if name else [])

        try:
            if old:
                self.archive.append(old)
            replace_file(self.path, data, before_rename=link)
        except OSError as exc:
            raise StateWriteError(self.path, exc) from exc
        if saved is not state:
            state.update(saved)
        self._written = (identity(os.stat(self.path)), data, replace(doc, state=state))
        backups.prune(self.backup_dir, sorted(names + linked, reverse=True), self.keep_backups)
        self.last_generation = generation
        return generation

    def _check_settings(self, doc: Document) -> None:
        mine, theirs = self.settings_hash, doc.settings_hash
        if mine and theirs and mine != theirs and theirs not in self._warned_settings:
            self._warned_settings.add(theirs)
            self.counters.settings_changed_count += 1
            log.warning("state %s was written under settings %s, now running under %s", self.path, theirs, mine)


def identity(st: os.stat_result) -> tuple[int, ...]:
    """What changes whenever a file is replaced or rewritten: inode, size, modification and change times."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def checked_bytes(doc: Document) -> bytes:
    """The document's bytes, or ``InvalidStateError`` for a state that would not load again."""
    try:
        validate_state(doc.state, "state to save")
        return encode(doc)
    except CorruptStateError as exc:
        raise InvalidStateError(exc.reason) from exc
    except ValueError as exc:
        raise InvalidStateError(f"a number is not finite ({exc})") from exc


class LegacyFound(Exception):
    """Internal signal: the primary is an unversioned legacy document."""
