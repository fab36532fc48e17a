"""Backups of the state file (hard links, newest N kept) and the quarantine for bad copies.

A backup is named ``<name>.g<generation, 12 digits>.<utc time>.json`` so names sort by generation.
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


def link_backup(primary: Path, backup_dir: Path, generation: int) -> None:
    """Keep the current primary as a backup; a hard link costs no copy."""
    with contextlib.suppress(FileNotFoundError, FileExistsError):
        os.link(primary, backup_dir / backup_name(primary, generation))


def newest_first(primary: Path, backup_dir: Path) -> list[Path]:
    prefix = f"{primary.stem}.g"
    names = [n for n in os.listdir(backup_dir) if n.startswith(prefix) and n.endswith(".json")]
    return [backup_dir / n for n in sorted(names, reverse=True)]


def prune(primary: Path, backup_dir: Path, keep: int) -> None:
    for old in newest_first(primary, backup_dir)[keep:]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()


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
