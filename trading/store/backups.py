"""Backups of the state file (hard links, newest N kept) and the quarantine for bad copies.

A backup is named ``<name>.g<generation, 12 digits>.<utc time>.json`` so names sort by generation
(then by time).  The store names a backup after the generation that superseded it, minus one, and
never writes a generation below the highest backup: after a primary restored by hand, the new saves
sort above the abandoned timeline, so pruning and fallback keep the live one.
Quarantined files are moved aside into ``corrupt/`` and never deleted by the bot.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

GENERATION = re.compile(r"\.g(\d{12})\.")


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def backup_name(primary: Path, generation: int) -> str:
    return f"{primary.stem}.g{generation:012d}.{stamp()}.json"


def generation_of(backup: Path) -> int:
    match = GENERATION.search(backup.name)
    return int(match.group(1)) if match else -1


def link_backup(primary: Path, backup_dir: Path, generation: int) -> str | None:
    """Keep the current primary as a backup named ``generation``; a hard link costs no copy."""
    name = backup_name(primary, generation)
    try:
        os.link(primary, backup_dir / name)
    except (FileNotFoundError, FileExistsError):
        return None
    return name


def names_newest_first(primary: Path, backup_dir: Path) -> list[str]:
    prefix = f"{primary.stem}.g"
    return sorted((n for n in os.listdir(backup_dir) if n.startswith(prefix) and n.endswith(".json")), reverse=True)


def newest_first(primary: Path, backup_dir: Path) -> list[Path]:
    return [backup_dir / n for n in names_newest_first(primary, backup_dir)]


def highest(names: list[str]) -> int:
    """The highest generation among backup names sorted newest first (0 without any)."""
    return max((generation_of(Path(n)) for n in names[:1]), default=0)


def prune(backup_dir: Path, names: list[str], keep: int) -> None:
    """Remove all but the newest ``keep`` of ``names`` (sorted newest first)."""
    for old in names[keep:]:
        with contextlib.suppress(FileNotFoundError):
            (backup_dir / old).unlink()


def quarantine(primary: Path, quarantine_dir: Path, reason: str) -> Path:
    """Move a bad primary aside, keeping it for forensics; return where it went."""
    slug = re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")[:40]
    target = quarantine_dir / f"{primary.stem}.{stamp()}.{slug}.json"
    os.replace(primary, target)
    return target


def copy_aside(source: Path, backup_dir: Path, label: str) -> Path:
    """Keep a hard link of ``source`` (e.g. a legacy document before its migration)."""
    target = backup_dir / f"{source.stem}.{label}.{stamp()}.json"
    os.link(source, target)
    return target
