"""The start judgement on sample sequences as a watcher takes them (every 0.1 s; a pulse every 0.5 s).

Each sequence is judged at every prefix, as the watcher does while it waits: a good start must never
be failed on the way, a hang must be failed once `stall` seconds pass without progress.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from deploy.steps import liveness
from deploy.steps.liveness import FAILED, OK, WAITING, Limits, Sample, judge, parse_lines
from trading import stages

RELEASE = "a" * 64
START = Limits(goal=stages.RUNNING, stall=6.0, cap=300.0, release=RELEASE, name="bot")


def watched(seconds: float, at: callable, every: float = 0.1) -> list[Sample]:
    """Samples every `every` s for `seconds`; `at(t)` gives the sample's fields at time t."""
    return [Sample(at=round(i * every, 3), **at(round(i * every, 3))) for i in range(int(seconds / every) + 1)]


def pulse(t: float, cpu_per_second: float, stage_at: dict[float, str], run: str = "S", cpu_until: float = 1e9):
    """The newest pulse at t: the stage reached last, CPU growing at `cpu_per_second` until `cpu_until`."""
    seen = int(t / 0.5) * 0.5  # a pulse every 0.5 s
    stage = [s for when, s in sorted(stage_at.items()) if when <= seen][-1]
    cpu = round(min(seen, cpu_until) * cpu_per_second, 2)  # the kernel counts in 10 ms ticks
    return {"status": "running", "stage": stage, "release": RELEASE, "cpu": cpu, "run": run}


def verdicts(samples: list[Sample], limits: Limits = START, since: float = 0.0) -> list[liveness.Judgement]:
    return [judge(samples[: i + 1], limits, since) for i in range(len(samples))]


def first_failure(samples: list[Sample], limits: Limits = START) -> Sample | None:
    failed = [s for s, j in zip(samples, verdicts(samples, limits), strict=True) if j.verdict == FAILED]
    return failed[0] if failed else None


BOOT = {0.0: "started", 0.5: "imported", 1.0: "configured", 1.5: "locked", 2.0: "state_loaded"}


def test_a_hang_after_loading_its_state_fails_after_the_stall_naming_the_stage_and_the_setting():
    samples = watched(12, lambda t: pulse(t, 0.4, BOOT, cpu_until=2.0))
    failed = first_failure(samples)
    assert failed is not None and 7.9 <= failed.at <= 8.6  # the last CPU step came with the pulse at 2.0 s
    why = judge([s for s in samples if s.at <= failed.at], START, 0.0)
    assert why.setting == liveness.STALL_SETTING
    assert "stage state_loaded" in why.why and "+0.00 s CPU" in why.why and "TRADEBOT_START_STALL=6" in why.why


def test_a_slow_start_at_30x_load_is_never_failed_while_it_gets_its_share_of_cpu():
    # 60 runnable tasks on 2 cores: about 33 ms of CPU a second; a stage every 8 s, first tick after 45 s
    crawl = {0.0: "started", 8.0: "imported", 16.0: "configured", 24.0: "locked", 32.0: "state_loaded"}
    samples = watched(45, lambda t: pulse(t, 0.033, crawl))
    samples.append(Sample(at=45.1, status="running", stage="running", release=RELEASE, cpu=1.49, run="R"))
    judged = verdicts(samples)
    assert FAILED not in [j.verdict for j in judged]
    assert judged[-1].verdict == OK


def test_a_process_waiting_on_disk_is_not_a_hang():
    def syncing(t: float) -> dict:
        doc = pulse(t, 0.4, BOOT, cpu_until=2.0)
        return doc | {"run": "D"} if 2.0 <= t < 14.0 else doc | {"stage": "running"} if t >= 14.0 else doc

    judged = verdicts(watched(14.5, syncing))
    assert FAILED not in [j.verdict for j in judged] and judged[-1].verdict == OK


def test_a_crash_is_failed_at_once_with_its_code_stage_and_last_line_and_no_setting():
    samples = watched(2, lambda t: pulse(t, 0.4, BOOT))
    samples.append(
        Sample(2.1, "exited", exit_code=3, stage="locked", release=RELEASE, last_line="StateTooNewError: schema 9")
    )
    why = judge(samples, START, 0.0)
    assert why.verdict == FAILED and why.setting is None
    assert "exited with code 3 at stage locked" in why.why and "StateTooNewError" in why.why


def test_a_restart_is_a_crash_even_while_running_again():
    why = judge([Sample(1.0, "running", restarts=1, stage="imported", release=RELEASE)], START, 0.0)
    assert why.verdict == FAILED and "bot exited at stage imported (restarted 1 times)" in why.why  # not "running"


def test_another_release_than_the_one_meant_is_failed():
    wrong = Sample(1.0, "running", stage="imported", release="b" * 64)
    why = judge([wrong], START, 0.0)
    assert why.verdict == FAILED and "runs code bbbbbbbbbbbb, expected aaaaaaaaaaaa" in why.why


def test_without_the_protocol_the_cgroup_cpu_is_the_progress_and_the_health_command_the_goal():
    def old(t: float) -> dict:
        return {"status": "running", "engine_cpu": round(min(t, 3.0) * 0.3, 2), "healthy": t >= 9.0}

    good = verdicts(watched(9, old))
    assert FAILED not in [j.verdict for j in good] and good[-1].verdict == OK
    hung = watched(12, lambda t: old(t) | {"healthy": False})
    assert first_failure(hung).at == pytest.approx(9.0)


def test_engine_churn_before_the_container_runs_is_not_held_against_it():
    def churn(t: float) -> dict:
        return {"status": "created"} if t < 20 else pulse(t - 20, 0.4, BOOT)

    judged = verdicts(watched(23, churn))
    assert FAILED not in [j.verdict for j in judged] and judged[-1].verdict == WAITING


def test_the_cap_fails_a_start_that_progresses_forever_but_a_rollback_has_none():
    samples = watched(301, lambda t: pulse(t, 0.1, BOOT), every=1.0)
    capped = judge(samples, START, 0.0)
    assert (
        capped.verdict == FAILED and capped.setting == liveness.CAP_SETTING and "TRADEBOT_START_CAP=300" in capped.why
    )
    assert judge(samples, START.for_rollback(), 0.0).verdict == WAITING


def test_a_rollback_gets_three_stalls():
    samples = watched(21, lambda t: pulse(t, 0.4, BOOT, cpu_until=2.0))
    assert first_failure(samples, START.for_rollback()).at == pytest.approx(20.0)  # 3 x 6 s after the last step


@pytest.mark.parametrize(
    ("stage", "goal", "verdict"),
    [
        ("standing_by", "standing_by", OK),
        ("running", "standing_by", OK),  # the old one died while this stood by: the lock decided early
        ("locked", "running", WAITING),
        ("stopping", "running", WAITING),
    ],
)
def test_goals_are_met_by_rank(stage, goal, verdict):
    sample = Sample(0.5, "running", stage=stage, release=RELEASE, cpu=0.1)
    assert judge([sample], Limits(goal, 6.0, 300.0, RELEASE), 0.0).verdict == verdict


def test_parse_lines_finds_the_marker_anywhere_and_ignores_everything_else():
    doc = {"protocol": 2, "role": "bot", "stage": "locked", "ts": 1.5, "release": RELEASE}
    log = b"\n".join(
        [
            b"2026-12-05 10:00:00,000 INFO trading.bot[7]: opened BTC",
            ("2026-12-05 10:00:01,000 INFO trading.stage[7]: " + stages.line(doc)).encode(),
            b"... TRADEBOT-STAGE {torn",
            b"TRADEBOT-STAGE [1, 2]",
        ]
    )
    assert parse_lines(log) == [doc]


def test_the_limits_of_a_start_come_from_the_settings():
    from deploy.config import Settings

    limits = liveness.at_start(Settings.from_env({"TRADEBOT_START_STALL": "9"}), "running", RELEASE, "bot")
    assert (limits.stall, limits.cap, limits.for_rollback().stall, limits.for_rollback().cap) == (
        9.0,
        300.0,
        27.0,
        None,
    )


def test_the_image_label_names_the_protocol_of_the_code_and_only_two_speakers_hand_over():
    from pathlib import Path

    dockerfile = (Path(__file__).resolve().parents[4] / "Dockerfile").read_text()
    assert f'LABEL {liveness.PROTOCOL_LABEL}="{stages.PROTOCOL}"' in dockerfile
    new, old = {liveness.PROTOCOL_LABEL: "2"}, {"io.tradebot.code.digest": "x"}
    assert liveness.can_hand_over(new, new) and not liveness.can_hand_over(old, new)
    assert not liveness.can_hand_over(new, old) and not liveness.can_hand_over(None, new)
    assert liveness.protocol_of({liveness.PROTOCOL_LABEL: "junk"}) == 0


def recorded(name: str) -> tuple[list[Sample], str | None]:
    """A sequence `bench.bench_stages --record` watched of a real bot process (see the file's `recorded`)."""
    from pathlib import Path

    doc = json.loads((Path(__file__).parent / "recorded" / f"{name}.json").read_text())
    samples = [Sample(**dict(zip(doc["fields"], row, strict=True)), release=doc["release"]) for row in doc["samples"]]
    return samples, doc["release"]


@pytest.mark.parametrize("name", ["good-30x-0", "good-30x-4", "good-10x-4"])
def test_recorded_good_starts_under_load_are_never_failed(name):
    """good-30x-0 crawled at 10 ms of CPU a second (load average 59 on 2 cores) and was failed by the judge that
    compared each pulse's CPU with a stage line that carried none."""
    samples, release = recorded(name)
    judged = verdicts(samples, Limits(stages.RUNNING, 6.0, 300.0, release, "bot"))
    assert FAILED not in [j.verdict for j in judged], next(j.why for j in judged if j.verdict == FAILED)
    assert judged[-1].verdict == (WAITING if name == "good-30x-0" else OK)  # the recording ends where it was failed


@pytest.mark.parametrize("name", ["hung-30x-0", "hung-30x-2", "hung-10x-1", "hung-quiet-0"])
def test_recorded_hung_starts_are_failed_a_stall_after_the_hang(name):
    """The bot's main thread sleeps for good once it is `locked` (bench_stages' hung bot)."""
    samples, release = recorded(name)
    hung_at, limits = next(s.at for s in samples if s.stage == stages.LOCKED), replace(START, release=release)
    failed = first_failure(samples, limits)
    assert failed is not None and hung_at + 6.0 <= failed.at <= hung_at + 6.6
    why = judge([s for s in samples if s.at <= failed.at], limits, 0.0).why
    assert "stage locked" in why and "TRADEBOT_START_STALL=6" in why
