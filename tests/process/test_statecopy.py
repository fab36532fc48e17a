"""The backup copy (`deploy.engine.scripts.statecopy`) of a state directory while a writer commits: real processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from deploy.engine.scripts.statecopy import copy_tree
from tests.process.conftest import REPO
from testsupport.committer import WRITER, committed
from testsupport.waiting import wait_for


def test_backups_taken_while_a_worker_commits_are_whole_and_hold_every_earlier_command(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    log = tmp_path / "committed.log"
    log.touch()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(state), str(log)], cwd=REPO)
    try:
        wait_for(lambda: len(committed(log.read_text())) >= 50 or writer.poll() is not None, what="50 commits")
        assert writer.poll() is None, f"the writer died (exit code {writer.returncode})"
        for n in range(8):
            before = committed(log.read_text())
            backup = tmp_path / f"backup{n}"
            backup.mkdir()
            copy_tree(state, backup)
            db = sqlite3.connect(backup / "commands.sqlite3")
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            held = {row[0] for row in db.execute("SELECT id FROM commands")}
            db.close()
            assert before <= held and len(held) > len(before) - 1
            assert json.loads((backup / "live_portfolio.json").read_text())["pad"] == "x" * 50000
            assert not [p.name for p in backup.iterdir() if p.name.endswith(("-wal", "-shm"))]
    finally:
        writer.kill()
        writer.wait()
