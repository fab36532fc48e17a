"""What the rebuild's plan and run do with an SQLite database and its `-wal`, FIFOs and excluded paths.

The probe runs here on temporary directories, as the helper container runs it; the plan is `triage.make`
on its inventory; the run's copy is the probe's `copy` of that plan."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
from pathlib import Path

from deploy.rebuild import inventory, triage
from deploy.rebuild.layout import Layout
from tests.unit.deploy.rebuild.factories import real_layout
from tests.unit.deploy.rebuild.test_inventory import make_tree, probe

DB = "workspace/data/orders.sqlite3"


def layout_for_me() -> Layout:
    rules = real_layout()
    return dataclasses.replace(
        rules, state_volume=dataclasses.replace(rules.state_volume, uid=os.getuid(), gid=os.getgid())
    )


def legacy_with_a_wal_database(root: Path) -> None:
    """The issue's case: the legacy bot was killed, so its tables are still only in the `-wal`."""
    make_tree(root)
    (root / DB).parent.mkdir(parents=True)
    live = sqlite3.connect(root / DB, isolation_level=None)
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, symbol TEXT)")
    live.executemany("INSERT INTO orders (symbol) VALUES (?)", [("BTCUSDT",), ("ETHUSDT",)])
    frozen = root.parent / "frozen"  # the files as a kill leaves them: the connection never closed
    shutil.copytree(root, frozen)
    live.close()
    shutil.rmtree(root)
    frozen.rename(root)
    assert (root / f"{DB}-wal").stat().st_size > 0


def carry(tmp_path: Path, source: Path, chosen: triage.Plan, rules: Layout) -> Path:
    target = tmp_path / "state"
    target.mkdir()
    expected = chosen.expected(rules)
    spec = {
        "source": str(source),
        "target": str(target),
        "uid": os.getuid(),
        "gid": os.getgid(),
        "dir_mode": 0o750,
        "files": [{"from": c.item.path, "to": c.to, "mode": expected[c.to].mode} for c in chosen.carried],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    probe("copy", str(tmp_path / "spec.json"))
    return target


def test_a_kept_sqlite_database_is_carried_whole_with_what_its_wal_held_and_proven_by_its_tables(tmp_path: Path):
    source, rules = tmp_path / "legacy", layout_for_me()
    legacy_with_a_wal_database(source)
    found = inventory.parse(probe("inventory", str(source)))
    assert found[DB].tables is not None and found[f"{DB}-wal"].tables is None
    chosen = triage.make(found, rules, keep=[DB])
    skipped = {s.item.path: s.reason for s in chosen.skipped}
    assert skipped.keys() == {f"{DB}-wal", f"{DB}-shm"} and "part of the SQLite database" in skipped[f"{DB}-wal"]
    target = carry(tmp_path, source, chosen, rules)
    carried = target / "data" / "orders.sqlite3"
    with sqlite3.connect(carried) as db:
        assert db.execute("SELECT symbol FROM orders ORDER BY id").fetchall() == [("BTCUSDT",), ("ETHUSDT",)]
    assert not Path(f"{carried}-wal").exists()
    assert inventory.differences(chosen.expected(rules), inventory.parse(probe("inventory", str(target)))) == []


def test_a_database_that_lost_its_tables_is_not_proven(tmp_path: Path):
    """What the run before this change carried (the main file alone, no tables) no longer passes the proof."""
    source, rules = tmp_path / "legacy", layout_for_me()
    legacy_with_a_wal_database(source)
    chosen = triage.make(inventory.parse(probe("inventory", str(source))), rules, keep=[DB])
    target = carry(tmp_path, source, chosen, rules)
    (target / "data" / "orders.sqlite3").unlink()
    shutil.copyfile(source / DB, target / "data" / "orders.sqlite3")  # the main file alone, as a byte copy
    os.chmod(target / "data" / "orders.sqlite3", chosen.expected(rules)["data/orders.sqlite3"].mode)
    assert inventory.differences(chosen.expected(rules), inventory.parse(probe("inventory", str(target)))) == [
        "data/orders.sqlite3: tables differ"
    ]


def test_a_fifo_under_logs_is_listed_as_skipped_in_the_plan_and_the_run_does_not_touch_it(tmp_path: Path):
    """The issue's case: a FIFO under logs/ failed every run with a raw SpecialFileError, though planned as carried."""
    source, rules = tmp_path / "legacy", layout_for_me()
    make_tree(source)
    os.mkfifo(source / "workspace/logs/feed.pipe")
    (source / "workspace/logs/bot.pid").write_text("7\n")
    found = inventory.parse(probe("inventory", str(source)))
    assert found["workspace/logs/feed.pipe"].kind == "fifo"
    chosen = triage.make(found, rules)
    skipped = {s.item.path: s.reason for s in chosen.skipped}
    assert skipped.keys() == {"workspace/logs/feed.pipe", "workspace/logs/bot.pid"}
    assert (
        "FIFO" in skipped["workspace/logs/feed.pipe"] and "excluded by the layout" in skipped["workspace/logs/bot.pid"]
    )
    assert "workspace/logs/feed.pipe" not in {c.item.path for c in chosen.carried}
    shown = triage.render(chosen, "legacy", "tb_state")
    assert "workspace/logs/feed.pipe  (fifo): a FIFO (named pipe)" in shown and "skipped, never carried (2" in shown
    target = carry(tmp_path, source, chosen, rules)
    assert inventory.differences(chosen.expected(rules), inventory.parse(probe("inventory", str(target)))) == []


def test_a_corrupt_database_is_inventoried_as_unreadable_not_a_crash(tmp_path: Path):
    make_tree(tmp_path)
    (tmp_path / "workspace/broken.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)
    found = inventory.parse(probe("inventory", str(tmp_path)))
    assert (found["workspace/broken.sqlite3"].tables or "").startswith("unreadable: ")
