"""`deploy.steps.startup`'s decisions: the samples a look makes, when to probe, what a failure says."""

from __future__ import annotations

import json

from deploy.config import Settings
from deploy.engine.observe import Look, State
from deploy.steps import liveness, startup
from trading import stages


def stage_line(stage: str, **fields: object) -> str:
    return "2026-12-05 08:00:00,000 INFO trading.stage[7]: " + stages.MARKER + json.dumps({"stage": stage, **fields})


def look(at: float, *lines: str, status: str = "running", cpu: float | None = None) -> Look:
    return Look(at, State(status, None), lines, cpu)


def test_a_look_becomes_a_sample_carrying_the_newest_stage_line_until_a_newer_one() -> None:
    track = startup.Track()
    track.add(look(1.0, status="created"))
    track.add(look(1.1, stage_line("started", cpu=0.01, run="R"), "loading", stage_line("imported", release="r1")))
    track.add(look(1.2, "a plain line", cpu=0.5))
    first, second, third = track.samples
    assert (first.status, first.stage, first.last_line) == ("created", None, "")
    assert (second.stage, second.release, second.last_line) == ("imported", "r1", "loading")
    assert (third.stage, third.release, third.engine_cpu, third.last_line) == ("imported", "r1", 0.5, "a plain line")
    assert track.running_since == 1.1


def test_an_image_without_stage_lines_is_probed_once_a_second_after_a_second_of_running() -> None:
    track = startup.Track()
    track.add(look(10.0))
    assert not track.wants_probe(10.5) and track.wants_probe(11.0)
    track.probed_at = 11.0
    assert not track.wants_probe(11.9) and track.wants_probe(12.0)
    track.add(look(12.1, stage_line("started")))
    assert not track.wants_probe(20.0)  # it speaks the protocol: judged by its stages


def test_limits_come_from_the_settings_and_a_release_that_ran_before_gets_three_stalls_and_no_cap() -> None:
    settings = Settings(start_stall=6.0, start_cap=300.0)
    fresh = startup.limits(settings, stages.RUNNING, "bot", "digest", ran_before=False)
    assert (fresh.goal, fresh.stall, fresh.cap, fresh.release, fresh.name) == ("running", 6.0, 300.0, "digest", "bot")
    again = startup.limits(settings, stages.RUNNING, "bot", "", ran_before=True)
    assert (again.stall, again.cap, again.release) == (18.0, None, None)


def test_a_failure_names_what_was_judged_and_the_setting_that_tunes_it_and_a_crash_names_none() -> None:
    target = startup.Target("c" * 64, "bot", startup.limits(Settings(), stages.RUNNING, "bot", None, False))
    stalled = liveness.Judgement(liveness.FAILED, "bot made no progress for 6.1 s: …", liveness.STALL_SETTING)
    error = startup.start_failed(target, stalled, 7.04)
    assert error.message == f"bot {'c' * 12} did not start: bot made no progress for 6.1 s: …"
    assert "raise TRADEBOT_START_STALL (now 6 s)" in error.hint and error.exit_code == 7
    assert (error.data["setting"], error.data["seconds"]) == ("TRADEBOT_START_STALL", 7.0)
    crashed = startup.start_failed(target, liveness.Judgement(liveness.FAILED, "bot exited with code 1"), 0.4)
    assert "TRADEBOT_" not in crashed.hint and "why it ended" in crashed.hint


def test_an_image_labelled_with_the_protocol_is_judged_by_its_stage_lines_alone() -> None:
    track = startup.Track(protocol=True)
    track.add(look(10.0, cpu=0.3))  # the cgroup's CPU: the engine's health-check execs count there too
    assert track.samples[0].engine_cpu is None and not track.wants_probe(12.0)
