"""Runs inside a helper container, on the volumes mounted there (standard library only, Python 3.9+).

    probe inventory ROOT    one JSON object per line for ROOT (path ".") and every entry below:
                            {path, kind, size, mode, uid, gid, sha256, tables}; kind: file, link,
                            dir, fifo, socket, char-device, block-device (never opened) or other;
                            tables: for an SQLite database, the digest of its tables (below)
                            (a link's sha256 is of its target; a dir has none)
    probe copy SPEC         copy what SPEC (a JSON file) lists from its `source` root into its
                            `target` root: {source, target, uid, gid, dir_mode,
                            files: [{from, to, mode}]}; everything below the target root,
                            the root included, is owned by uid:gid; then sync

An SQLite database is read and copied whole: from a private copy of it and its `-wal` (so a
read-only mount is never written, and what only the write-ahead log holds is not lost), through
SQLite's backup API into a single file (rollback-journal mode, no `-wal` beside it). Its bytes then
differ from the source's; its `tables` digest (every table's name, schema and rows) is the proof.
`is_sqlite` and `tables` are statecopy's too: each script runs alone (`python3 -c`), so neither
imports the other; a test keeps them equal.

The pipeline never reads these volumes through host paths: this script runs in a throw-away
container that mounts them (`deploy.rebuild.engineops`, as `deploy.engine.scripts.argv` runs it).
"""

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import sys
import tempfile

SQLITE_HEADER = b"SQLite format 3\x00"


def digest(path, st):
    if stat.S_ISLNK(st.st_mode):
        return hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).hexdigest()
    if not stat.S_ISREG(st.st_mode):
        return None
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


KINDS = (
    (stat.S_ISLNK, "link"),
    (stat.S_ISDIR, "dir"),
    (stat.S_ISREG, "file"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "char-device"),
    (stat.S_ISBLK, "block-device"),
)


def kind_of(mode):
    return next((name for test, name in KINDS if test(mode)), "other")


def is_sqlite(path):
    with open(path, "rb") as handle:
        return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def tables(db):
    """sha256 over every table's name, schema and rows (sorted) of the open database `db`."""
    sha = hashlib.sha256()
    for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        rows = sorted(repr(row) for row in db.execute(f'SELECT * FROM "{name}"'))
        sha.update(json.dumps([name, sql, rows]).encode())
    return sha.hexdigest()


@contextlib.contextmanager
def opened(path):
    """The database at `path` as it is with its write-ahead log, opened from a private copy."""
    with tempfile.TemporaryDirectory() as private:
        copy = os.path.join(private, "db")
        shutil.copyfile(path, copy)
        if os.path.exists(path + "-wal"):
            shutil.copyfile(path + "-wal", copy + "-wal")
        db = sqlite3.connect(copy)
        try:
            yield db
        finally:
            db.close()


def copy_sqlite(source, dest):
    """`dest`: the database at `source` whole, as one file in rollback-journal mode."""
    with opened(source) as db:
        target = sqlite3.connect(dest)
        try:
            db.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()


def describe(root, path):
    st = os.lstat(path)
    sqlite = stat.S_ISREG(st.st_mode) and is_sqlite(path)
    if sqlite:
        try:
            with opened(path) as db:
                sqlite = tables(db)
        except sqlite3.DatabaseError as exc:  # corrupt, or copied while a writer changed it
            sqlite = f"unreadable: {exc}"
    return {
        "path": os.path.relpath(path, root).replace(os.sep, "/"),
        "kind": kind_of(st.st_mode),
        "size": st.st_size if stat.S_ISREG(st.st_mode) else 0,
        "mode": stat.S_IMODE(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "sha256": digest(path, st),
        "tables": sqlite or None,
    }


def inventory(root):
    print(json.dumps(dict(describe(root, root), path="."), sort_keys=True))
    for here, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            print(json.dumps(describe(root, os.path.join(here, name)), sort_keys=True))


def copy(spec_path):
    with open(spec_path) as handle:
        spec = json.load(handle)
    source, target = spec["source"], spec["target"]
    for item in spec["files"]:
        dest = os.path.join(target, item["to"])
        os.makedirs(os.path.dirname(dest), mode=spec["dir_mode"], exist_ok=True)
        origin = os.path.join(source, item["from"])
        if not os.path.islink(origin) and is_sqlite(origin):
            copy_sqlite(origin, dest)
        else:
            shutil.copyfile(origin, dest, follow_symlinks=False)
        if not os.path.islink(dest):
            os.chmod(dest, item["mode"])
    for here, _dirs, files in os.walk(target):
        os.chown(here, spec["uid"], spec["gid"])
        os.chmod(here, spec["dir_mode"])
        for name in files:
            os.lchown(os.path.join(here, name), spec["uid"], spec["gid"])
    os.sync()


if __name__ == "__main__":
    {"inventory": inventory, "copy": copy}[sys.argv[1]](sys.argv[2])
