"""The stage reporter, the per-container heartbeat files and the health verdict on a standby."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest

from trading import heartbeat, stages
from trading.stages import Reporter


@pytest.fixture
def said(caplog: pytest.LogCaptureFixture) -> callable:
    caplog.set_level(logging.INFO, logger="trading.stage")
    return lambda: [json.loads(r.getMessage().split(stages.MARKER, 1)[1]) for r in caplog.records]


def test_the_pulse_says_the_main_threads_cpu_until_the_process_waits_or_runs(said):
    reporter = Reporter("bot")
    reporter.reach(stages.IMPORTED, release="r1")
    reporter.pulse()
    reporter.reach(stages.STANDING_BY, waiting_for={"pid": 1})
    reporter.pulse()  # silent: a long standby does not flood the log
    reporter.reach(stages.LOCKED)
    reporter.pulse()
    reporter.tick({"ticks": 1, "last_tick_ts": 100.0}, lambda doc: None)
    reporter.pulse()  # silent once running
    lines = said()
    assert [(d["stage"], d.get("pulse")) for d in lines] == [
        ("imported", None),
        ("imported", 1),
        ("standing_by", None),
        ("locked", None),
        ("locked", 2),
        ("running", None),
    ]
    assert lines[1]["cpu"] > 0 and lines[1]["run"] == "R"
    assert lines[2]["waiting_for"] == {"pid": 1} and lines[3]["waiting_for"] is None
    assert lines[5]["first_tick_ts"] == 100.0 and {d["release"] for d in lines} == {"r1"}


def test_stopped_carries_the_last_tick_and_the_heartbeat_carries_the_stages(said):
    written: list[dict] = []
    clock = iter(range(100)).__next__
    reporter = Reporter("worker", clock=lambda: float(clock()))
    reporter.attach(written.append)
    reporter.reach(stages.LOCKED)
    reporter.tick({"ticks": 1, "last_tick_ts": 50.0}, written.append)
    reporter.tick({"ticks": 2, "last_tick_ts": 51.0}, written.append)
    reporter.reach(stages.STOPPING)
    reporter.stopped()
    assert said()[-1] | {"ts": 0} == {
        "protocol": 2, "role": "worker", "stage": "stopped", "ts": 0, "pid": os.getpid(), "host": reporter.host,
        "release": None, "waiting_for": None, "last_tick_ts": 51.0, "ticks": 2,
    }  # fmt: skip
    last = written[-1]
    assert last["stage"] == "stopped" and last["ticks"] == 2 and last["first_tick_ts"] == 50.0
    assert list(last["stages"]) == ["started", "locked", "running", "stopping", "stopped"]


def test_running_is_said_once_the_heartbeat_that_shows_it_and_the_code_is_written(said):
    """A reader who saw `running` (deploy's wait, then verify) must find the tick's code report in the heartbeat."""
    reporter = Reporter("worker")
    reporter.reach(stages.LOCKED)
    seen_at_write: list[tuple[str, list[str]]] = []
    reporter.tick(
        {"ticks": 1, "last_tick_ts": 50.0, "code": {"isolated": True}},
        lambda doc: seen_at_write.append((doc["stage"], [d["stage"] for d in said()])),
    )
    assert seen_at_write == [("running", ["locked"])]  # written as running before the line said it
    assert [d["stage"] for d in said()] == ["locked", "running"]


def test_main_thread_reads_cpu_and_run_state_and_none_without_proc(tmp_path: Path):
    cpu, run = stages.main_thread()
    assert cpu is not None and cpu > 0 and run == "R"
    assert stages.main_thread(proc=str(tmp_path)) == (None, None)


def test_only_bot_and_worker_run_the_protocol():
    assert stages.role_of(["bot", "--fresh"]) == "bot" and stages.role_of(["worker"]) == "worker"
    assert stages.role_of(["health"]) is None and stages.role_of([]) is None


def test_the_holder_writes_its_own_file_and_the_roles(tmp_path: Path):
    role_file = tmp_path / "heartbeat" / "bot.json"
    heartbeat.Beater(role_file, heartbeat.full_error).beat({"ticks": 3})
    own = tmp_path / "heartbeat" / "bot" / f"{heartbeat.this_host()}.json"
    assert json.loads(own.read_text()) == json.loads(role_file.read_text()) == {"ticks": 3}


def test_a_standbys_own_file_has_its_identity_and_stage(tmp_path: Path):
    reporter = Reporter("bot")
    reporter.attach(heartbeat.stage_writer(tmp_path / "heartbeat" / "bot.json", "bot"))
    reporter.reach(stages.STANDING_BY, waiting_for={"pid": 9})
    doc = heartbeat.read(tmp_path / "heartbeat" / "bot" / f"{heartbeat.this_host()}.json")
    assert doc["pid"] == os.getpid() and doc["stage"] == "standing_by" and doc["waiting_for"] == {"pid": 9}
    assert not (tmp_path / "heartbeat" / "bot.json").exists()  # only the lock's holder writes the role's file
    assert heartbeat.verdict(doc, time.time(), 15.0, heartbeat.this_host(), heartbeat.process_start) is None


def beat(stage: str, **fields: object) -> dict:
    me = heartbeat.identity("bot", "t0")
    return me | {"stage": stage, "beat_ts": 100.0, **fields}


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        (beat("standing_by"), None),
        (beat("fenced"), None),
        (beat("standing_by", beat_ts=80.0), "standing_by heartbeat is 20.0s old (max 15.0s)"),
        (beat("state_loaded"), "starting: stage state_loaded, no tick yet"),
        (beat("running", last_tick_ts=99.0), None),
        (beat("running", last_tick_ts=70.0), "heartbeat is 30.0s old (max 15.0s)"),
    ],
)
def test_verdict_on_stages(doc: dict, why: str | None):
    assert heartbeat.verdict(doc, 100.0, 15.0, heartbeat.this_host(), heartbeat.process_start) == why


def test_prune_removes_old_files_of_other_hosts_but_the_one_just_replaced(tmp_path: Path):
    for name in ("old", "replaced", "fresh"):
        (tmp_path / f"{name}.json").write_text("{}")
    day_ago = time.time() - heartbeat.PRUNE_AFTER - 60
    for name in ("old", "replaced"):
        os.utime(tmp_path / f"{name}.json", (day_ago, day_ago))
    assert heartbeat.prune(tmp_path, time.time(), keep="replaced") == ["old.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.json", "replaced.json"]


def test_started_needs_nothing_beyond_the_standard_library():
    """`started` is said before trading.cli loads: stages.py (and the entry point up to it) import only stdlib."""
    import ast
    import sys

    for module in (stages, __import__("trading.__main__", fromlist=["_"])):
        tree = ast.parse(Path(module.__file__).read_text())
        found = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        found |= {
            node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0
        }
        assert found - {"trading", "__future__"} <= sys.stdlib_module_names, found
    source = Path(stages.__file__).read_text()
    assert "from trading" not in source and "import trading" not in source


def test_status_names_the_stage_of_every_container_of_a_role(tmp_path: Path):
    from trading import status

    folder = tmp_path / "heartbeat" / "bot"
    heartbeat.write(folder / "live.json", {"stage": "running", "pid": 7, "beat_ts": time.time()})
    heartbeat.write(folder / "next.json", {"stage": "standing_by", "pid": 8, "waiting_for": {"pid": 7}})
    found = status.containers(folder)
    assert {host: seen["stage"] for host, seen in found.items()} == {"live": "running", "next": "standing_by"}
    assert found["next"]["waiting_for"] == {"pid": 7} and status.containers(tmp_path / "none") == {}


def test_a_long_wait_says_its_line_once_per_holder_and_refreshes_the_heartbeat_every_time(said):
    written: list[dict] = []
    reporter = Reporter("bot")
    reporter.attach(written.append)
    for holder in ({"pid": 1}, {"pid": 1}, {"pid": 1}, {"pid": 2}):
        reporter.waiting(stages.STANDING_BY, holder)
    assert [d["waiting_for"] for d in said()] == [{"pid": 1}, {"pid": 2}]
    assert len(written) == 1 + 4 and written[-1]["waiting_for"] == {"pid": 2}
