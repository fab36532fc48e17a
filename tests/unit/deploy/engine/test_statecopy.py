"""The backup copy's manifest, its proof of an SQLite database, and a FIFO in the state directory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from deploy.engine import scripts
from deploy.engine.scripts import probe, statecopy


def state_with_a_database(root: Path) -> None:
    root.mkdir()
    (root / "live_portfolio.json").write_text('{"cash": 1}')
    db = sqlite3.connect(root / "commands.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE commands (id INTEGER PRIMARY KEY, type TEXT)")
    db.execute("INSERT INTO commands (type) VALUES ('noop')")
    db.close()


def run(source: Path, target: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, *scripts.argv("statecopy", str(source), str(target))[1:]]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_the_manifest_names_every_copied_entry_with_its_hash_and_a_databases_tables(tmp_path: Path) -> None:
    source, target = tmp_path / "state", tmp_path / "backup"
    state_with_a_database(source)
    target.mkdir()
    ran = run(source, target)
    assert ran.returncode == 0, ran.stderr
    manifest = {entry["path"]: entry for entry in map(json.loads, ran.stdout.splitlines())}
    assert manifest.keys() == {"live_portfolio.json", "commands.sqlite3"}
    with sqlite3.connect(target / "commands.sqlite3") as copy:
        assert manifest["commands.sqlite3"]["tables"] == statecopy.tables(copy) == probe.tables(copy)
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert manifest["live_portfolio.json"]["sha256"] == statecopy.hashlib.sha256(b'{"cash": 1}').hexdigest()


def test_a_fifo_is_listed_as_skipped_and_never_opened(tmp_path: Path) -> None:
    source, target = tmp_path / "state", tmp_path / "backup"
    state_with_a_database(source)
    os.mkfifo(source / "feed.pipe")  # opening it to read would block the copy for good
    target.mkdir()
    ran = run(source, target)
    assert ran.returncode == 0, ran.stderr
    skipped = [json.loads(line) for line in ran.stdout.splitlines() if "skipped" in line]
    assert [(e["path"], e["kind"]) for e in skipped] == [("feed.pipe", "special")]
    assert not (target / "feed.pipe").exists()
