"""The volume rebuild's cases of #19 on the real engine, each as the issue found it.

- `--keep` of an SQLite database whose tables were only in its `-wal`: carried whole, with its rows;
- a FIFO under the legacy volume's logs/: listed as skipped by the plan, and the run does not trip on it;
- a half-made state volume whose journal volume was removed by hand: finished, never "already rebuilt";
- a rebuild killed before it made the state volume, then a release ran on one: the next rebuild keeps it.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.rebuild import labels
from deploy.steps import backups
from tests.integration.test_volume_rebuild import AT, SECRET, files_of, legacy_backups
from testsupport import legacy
from testsupport.cli import invoke, refused
from testsupport.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("fast_ticks")
DB = "workspace/data/orders.sqlite3"
ROWS = (
    "import sqlite3; print(sqlite3.connect('/v/data/orders.sqlite3').execute('SELECT symbol FROM orders').fetchall())"
)


def wal_database(scratch: Path) -> dict[str, tuple[bytes, int]]:
    """A database as a killed bot leaves it: its table and rows only in the `-wal` (files by path)."""
    scratch.mkdir()
    live = sqlite3.connect(scratch / "db", isolation_level=None)
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, symbol TEXT)")
    live.executemany("INSERT INTO orders (symbol) VALUES (?)", [("BTCUSDT",), ("ETHUSDT",)])
    frozen = scratch / "frozen"
    frozen.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(scratch / f"db{suffix}", frozen / f"db{suffix}")
    live.close()
    return {f"{DB}{suffix}": ((frozen / f"db{suffix}").read_bytes(), 0o644) for suffix in ("", "-wal", "-shm")}


@pytest.fixture
def legacy_with_extras(sandbox: Sandbox, tmp_path: Path) -> Iterator[str]:
    name = f"{sandbox.settings.project}-legacy"
    legacy.make(
        sandbox.engine, sandbox.settings.base_image or "", name, legacy.files(SECRET) | wal_database(tmp_path / "db")
    )
    sandbox.in_volume(name, "mkfifo /v/workspace/logs/feed.pipe")
    yield name


def test_a_kept_wal_database_is_carried_with_its_tables_and_a_fifo_is_skipped(
    sandbox: Sandbox, legacy_with_extras: str
) -> None:
    box, name, state = sandbox, legacy_with_extras, sandbox.settings.state_volume
    planned = invoke(box, "volume-rebuild", "--legacy", name, "--keep", DB, "--plan")
    assert planned.returncode == 0, planned.stderr
    assert "workspace/logs/feed.pipe  (fifo): a FIFO (named pipe)" in planned.stdout
    assert f"{DB}-wal  (file): part of the SQLite database {DB}" in planned.stdout
    done = invoke(box, "volume-rebuild", "--legacy", name, "--keep", DB)
    assert done.returncode == 0, done.stderr
    assert "workspace/logs/feed.pipe  (fifo)" in done.stdout and "the same tables" in done.stdout
    rows = box.in_volume(state, f'python3 -c "{ROWS}"')
    assert rows.strip() == "[('BTCUSDT',), ('ETHUSDT',)]"
    carried = files_of(box, state)
    assert "logs/feed.pipe" not in carried and "data/orders.sqlite3-wal" not in carried


def test_a_half_made_state_volume_without_its_journal_is_finished_not_already_rebuilt(
    sandbox: Sandbox, legacy_with_extras: str
) -> None:
    box, name, settings = sandbox, legacy_with_extras, sandbox.settings
    state, backup = settings.state_volume, f"{legacy_with_extras}-backup-20260101T000000.000Z"
    box.engine.volumes.create(state, labels=labels.state_labels(settings.project, "state", "2.40.3", name, backup))
    box.in_volume(state, "echo partial > /v/live_portfolio.json")  # a run killed while carrying; journal removed
    finished = invoke(box, "volume-rebuild", "--legacy", name)
    assert finished.returncode == 0, finished.stderr
    assert "already rebuilt" not in finished.stdout
    assert set(files_of(box, state)) == legacy.STATE_TARGETS
    again = invoke(box, "volume-rebuild", "--legacy", name)
    assert again.returncode == 0 and "already rebuilt" in again.stdout, again.stdout + again.stderr


def test_a_state_volume_a_release_ran_on_is_kept_by_the_next_rebuild(sandbox: Sandbox, legacy_with_extras: str) -> None:
    """Killed after the journal, before the state volume; a release made one and traded; the rebuild run again."""
    box, name, settings = sandbox, legacy_with_extras, sandbox.settings
    state = settings.state_volume
    journal = labels.journal_labels(name, f"{name}-backup-20260101T000000.000Z", AT)
    box.engine.volumes.create(backups.rebuild_marker(state), labels=journal)
    box.engine.volumes.create(state, labels={"com.docker.compose.project": settings.project})
    box.in_volume(state, "mkdir -p /v/heartbeat && echo traded > /v/live_portfolio.json && : > /v/bot.lock")
    refused(invoke(box, "volume-rebuild", "--legacy", name), 9, "a release ran on it", "--force")
    assert box.in_volume(state, "cat /v/live_portfolio.json") == "traded\n"
    forced = invoke(box, "volume-rebuild", "--legacy", name, "--force")
    assert forced.returncode == 0, forced.stderr
    [kept] = legacy_backups(box, state)
    assert box.in_volume(kept, "cat /v/live_portfolio.json") == "traded\n"
