"""A read-only look at the state: what ``load`` would find, and what would fix it, writing nothing.

No lock file is created, no temp cleaned, nothing quarantined, migrated or restored: a corrupt or
missing primary is reported with the newest valid backup shown in its place, a legacy document
with its migrated form; each finding names the command that repairs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trading.errors import CorruptStateError, NoValidStateError
from trading.store import backups
from trading.store.document import Document, decode, is_legacy, parse
from trading.store.migrations import inferences, migrate_legacy

REPAIR = "`python -m trading repair` (a bot or worker start does the same)"


@dataclass
class Peek:
    doc: Document
    source: str
    findings: list[str] = field(default_factory=list)


def peek(path: Path) -> Peek:
    """The document ``StateStore.load`` would return, found without writing; raises like ``load``."""
    try:
        parsed = parse(path.read_bytes())
        if is_legacy(parsed):
            finding = f"{path.name} is a legacy (unversioned) document; {REPAIR} migrates it, keeping the original"
            said = [f"{path.name}: {inferred}" for inferred in inferences(parsed)]  # type: ignore[arg-type]
            return Peek(Document(migrate_legacy(parsed), 0), path.name, [finding, *said])  # type: ignore[arg-type]
        return Peek(decode(parsed, str(path)), path.name)
    except FileNotFoundError:
        reason = "missing"
    except CorruptStateError as exc:
        reason = f"corrupt ({exc.reason})"
    return newest_backup(path, reason)


def newest_backup(path: Path, reason: str) -> Peek:
    tried = [f"primary: {reason}"]
    backup_dir = path.parent / "backups"
    for candidate in backups.newest_first(path, backup_dir) if backup_dir.is_dir() else []:
        try:
            doc = decode(parse(candidate.read_bytes()), str(candidate))
        except CorruptStateError as exc:
            tried.append(f"{candidate.name}: {exc.reason}")
            continue
        fix = "restores" if reason == "missing" else "moves it to corrupt/ and restores"
        finding = f"{path.name} is {reason}; {REPAIR} {fix} backup {candidate.name} (shown here)"
        return Peek(doc, candidate.name, [finding])
    raise NoValidStateError(path, tried)
