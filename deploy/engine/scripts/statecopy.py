"""Copy a live state directory consistently: run as a script in the backup helper container (stdlib only).

    python3 -c "<this file>" /from /to

Rules:
- An SQLite database (a file starting with SQLite's header) is copied through SQLite's online
  backup API: a snapshot of committed transactions, taken under SQLite's own locking while the
  worker keeps committing. Its `-wal`, `-shm` and `-journal` files are not copied (the snapshot
  holds what they held). The source is opened read-write, as WAL readers need the `-shm`;
  SQLite run as root gives any file it creates the database's owner.
- Every other file is read whole from one open (the state document is replaced by rename, so
  a reader sees one whole version, never a mix).
- Directories, files and links keep their mode and owner. A file gone between the listing
  and its copy (a temp file renamed over the state document) was not state: skipped.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
SIDECARS = ("-wal", "-shm", "-journal")


def is_sqlite(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def is_sidecar(path: Path) -> bool:
    """A `-wal`, `-shm` or `-journal` file next to an SQLite database."""
    for suffix in SIDECARS:
        main = path.with_name(path.name.removesuffix(suffix))
        if path.name.endswith(suffix) and main.is_file() and is_sqlite(main):
            return True
    return False


def copy_sqlite(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source, timeout=30.0), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def copy_entry(source: Path, target: Path) -> None:
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        target.mkdir(exist_ok=True)
    elif is_sqlite(source):
        copy_sqlite(source, target)
    else:
        shutil.copyfile(source, target)
    keep_owner_and_mode(source, target)


def keep_owner_and_mode(source: Path, target: Path) -> None:
    stat = source.lstat()
    os.lchown(target, stat.st_uid, stat.st_gid)
    if not source.is_symlink():
        os.chmod(target, stat.st_mode & 0o7777)


def copy_tree(source: Path, target: Path) -> None:
    """Copy everything below `source` into `target` (which exists), see the module docstring."""
    keep_owner_and_mode(source, target)
    for folder, dirnames, filenames in os.walk(source):
        here = Path(folder)
        for name in sorted(dirnames) + sorted(filenames):
            path = here / name
            try:
                if path.is_symlink() or not path.is_file() or not is_sidecar(path):
                    copy_entry(path, target / path.relative_to(source))
            except FileNotFoundError:
                continue  # replaced or removed since the listing (a temp file of an atomic write): not state


if __name__ == "__main__":
    copy_tree(Path(sys.argv[1]), Path(sys.argv[2]))
