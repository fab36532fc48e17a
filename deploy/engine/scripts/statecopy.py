"""Copy a live state directory consistently: run as a script in the backup helper container (stdlib only).

    python3 -c "<this file>" /from /to

Rules:
- An SQLite database (a file starting with SQLite's header) is copied through SQLite's online
  backup API, inside one read transaction of the source: a snapshot of committed transactions,
  taken under SQLite's own locking while the worker keeps committing. Its `-wal`, `-shm` and
  `-journal` files are not copied (the snapshot holds what they held); the copy is one file in
  rollback-journal mode (the worker sets WAL again when it opens it). The copy is proven: SQLite's
  integrity check passes, and its tables (every table's name, schema and rows) equal the source's
  in that same transaction. The source is opened read-write, as WAL readers need the `-shm`;
  SQLite run as root gives any file it creates the database's owner.
- Every other file is read whole from one open (the state document is replaced by rename, so
  a reader sees one whole version, never a mix).
- FIFOs, sockets and devices are never opened (opening a FIFO blocks): listed as skipped.
- Directories, files and links keep their mode and owner. A file gone between the listing
  and the end of its copy (a temp file renamed over the state document, or a heartbeat's) was
  not state: skipped, and what was copied of it removed.

It prints its manifest, one JSON object per entry of the copy, in path order: `{path, kind, size,
sha256, tables}` (`tables`: the digest of an SQLite database's tables; a link's sha256 is of its
target), or `{path, kind, skipped}` with the reason for an entry not copied. A copy that cannot be
proven exits 3 naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import sys
from pathlib import Path
from typing import Any

SQLITE_HEADER = b"SQLite format 3\x00"
SIDECARS = ("-wal", "-shm", "-journal")
NOT_PROVEN = 3


class NotProven(Exception):
    pass


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


def tables(db: sqlite3.Connection) -> str:
    """sha256 over every table's name, schema and rows (sorted) of the open database `db`."""
    sha = hashlib.sha256()
    for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        rows = sorted(repr(row) for row in db.execute(f'SELECT * FROM "{name}"'))
        sha.update(json.dumps([name, sql, rows]).encode())
    return sha.hexdigest()


def copy_sqlite(source: Path, target: Path) -> str:
    """Copy the database whole and prove it; the digest of its tables. Raises NotProven."""
    src, dst = sqlite3.connect(source, timeout=30.0, isolation_level=None), sqlite3.connect(target)
    try:
        src.execute("BEGIN")  # one snapshot for the digest and the copy
        expected = tables(src)
        src.backup(dst)
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode=DELETE")
        checked = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if checked != "ok" or tables(dst) != expected:
            raise NotProven(
                f"{source}: the copy {'fails its integrity check' if checked != 'ok' else 'has other tables'}"
            )
    finally:
        dst.close()
        src.close()
    return expected


def special(path: Path) -> str | None:
    """Why `path` is not copied (a FIFO, socket or device), or None."""
    mode = path.lstat().st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode):
        return None
    return "a FIFO, socket or device: it holds no data, and opening a FIFO blocks"


def copy_entry(source: Path, target: Path) -> dict[str, Any]:
    """Copy one entry; what the manifest says of the copy."""
    facts: dict[str, Any] = {"tables": None}
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        target.mkdir(exist_ok=True)
    elif is_sqlite(source):
        facts["tables"] = copy_sqlite(source, target)
    else:
        shutil.copyfile(source, target)
    keep_owner_and_mode(source, target)
    return facts


def keep_owner_and_mode(source: Path, target: Path) -> None:
    stat_ = source.lstat()
    os.lchown(target, stat_.st_uid, stat_.st_gid)
    if not source.is_symlink():
        os.chmod(target, stat_.st_mode & 0o7777)


def describe(path: Path, root: Path, facts: dict[str, Any]) -> dict[str, Any]:
    found = path.lstat()
    kind = "link" if stat.S_ISLNK(found.st_mode) else "dir" if stat.S_ISDIR(found.st_mode) else "file"
    sha = None
    if kind == "link":
        sha = hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).hexdigest()
    elif kind == "file":
        digest = hashlib.sha256()
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        sha = digest.hexdigest()
    size = found.st_size if kind == "file" else 0
    return {"path": path.relative_to(root).as_posix(), "kind": kind, "size": size, "sha256": sha, **facts}


def copy_tree(source: Path, target: Path) -> list[dict[str, Any]]:
    """Copy everything below `source` into `target` (which exists), see the module docstring; the manifest."""
    keep_owner_and_mode(source, target)
    manifest = []
    for folder, dirnames, filenames in os.walk(source):
        here = Path(folder)
        for name in sorted(dirnames) + sorted(filenames):
            path = here / name
            relative = path.relative_to(source)
            try:
                why = special(path)
                if why is not None:
                    manifest.append({"path": relative.as_posix(), "kind": "special", "skipped": why})
                elif path.is_symlink() or not path.is_file() or not is_sidecar(path):
                    facts = copy_entry(path, target / relative)
                    manifest.append(describe(target / relative, target, facts))
            except FileNotFoundError:  # replaced or removed since the listing (a temp file of an atomic write)
                discard(target / relative)  # not state: what was copied of it goes too
    return sorted(manifest, key=lambda entry: entry["path"])


def discard(copied: Path) -> None:
    """Remove what was copied of an entry that went away meanwhile (nothing, a file, a link, an empty folder)."""
    try:
        if copied.is_dir() and not copied.is_symlink():
            copied.rmdir()
        else:
            copied.unlink()
    except FileNotFoundError:
        pass


def main(source: str, target: str) -> int:
    try:
        manifest = copy_tree(Path(source), Path(target))
    except NotProven as exc:
        print(f"statecopy: not proven: {exc}", file=sys.stderr)
        return NOT_PROVEN
    for entry in manifest:
        print(json.dumps(entry, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
