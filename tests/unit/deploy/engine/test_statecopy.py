"""The backup copy's manifest, its proof of an SQLite database, and a FIFO in the state directory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_a_file_renamed_away_while_it_is_copied_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A heartbeat's temp file renamed over its document after it was copied, before its owner was read."""
    source, target = tmp_path / "state", tmp_path / "backup"
    state_with_a_database(source)
    (source / "heartbeat").mkdir()
    temp = source / "heartbeat" / ".bot.json.tmp-x"
    temp.write_text("{}")
    copied = statecopy.shutil.copyfile

    def copy_then_rename(src: Path, dst: Path) -> Path:
        done = copied(src, dst)
        if Path(src) == temp:
            temp.rename(source / "heartbeat" / "bot.json")  # the atomic write ends between the copy and its owner
        return done

    monkeypatch.setattr(statecopy.shutil, "copyfile", copy_then_rename)
    target.mkdir()
    manifest = statecopy.copy_tree(source, target)
    paths = {entry["path"] for entry in manifest}
    assert "heartbeat/.bot.json.tmp-x" not in paths
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == sorted(paths)  # no stray copy
