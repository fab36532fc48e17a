"""The procedure machinery with steps that only note what they did: order, progress, what a failure sets off."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Mapping
from typing import NoReturn

import docker.errors
import pytest

from deploy.errors import DeployError, NotRecorded, TradebotError
from deploy.procedures import trail
from deploy.procedures.procedure import Attempt, Deployment, Procedure, Step, plan_lines, record, run
from deploy.procedures.report import Report
from deploy.records import journal, ledger
from deploy.steps.tags import LiveTags
from tests.unit.deploy.procedures.site import NEW, OLD, Recorder
from testsupport.records import MemoryRecords


def reports(seen: Recorder) -> list[Report]:
    """Each report as written, in order."""
    written = [text for write in seen.records.writes for path, text in write.items() if path.startswith("reports/")]
    return [Report.from_json(text) for text in written]


def attempt() -> Attempt:
    return Attempt("deploy", NEW, LiveTags(OLD, None), backup="p_state-backup-1")


def never(exc: Exception) -> NoReturn:
    raise AssertionError(f"no recovery expected: {exc}")


def test_a_run_walks_every_step_in_order_and_names_each_with_its_duration(d: Deployment, seen: Recorder) -> None:
    steps = Procedure((seen.step("back up"),), (seen.step("tag"), seen.step("start")), (seen.step("prune"),))
    run(d, attempt(), steps, never)
    assert seen.done == ["back up", "tag", "start", "prune"]
    assert re.fullmatch(r"deploy: back up … ok \d+\.\d s", seen.said[0]), seen.said  # one line per step
    (started,), (entry,) = seen.started, seen.recorded  # the journal when it starts, the ledger when it ends
    assert (started.outcome, started.finished_at, started.attempt) == ("started", "", entry.attempt)
    assert entry.finished_at and journal.unfinished([started], [entry]) == []
    assert journal.unfinished([started], []) == [started]
    assert (entry.event, entry.commit, entry.image_id, entry.outcome) == (
        "deploy",
        NEW.commit,
        NEW.image_id,
        "succeeded",
    )
    assert (entry.previous, entry.dirty, entry.backup, entry.code_digest) == (
        OLD.commit,
        True,
        "p_state-backup-1",
        "d2",
    )


def test_the_report_is_written_once_with_the_entry_and_holds_every_step(d: Deployment, seen: Recorder) -> None:
    steps = Procedure((seen.step("back up"),), (seen.step("tag"),), (seen.step("prune"), seen.step("forget")))
    run(d, attempt(), steps, never)
    (written,) = reports(seen)  # the finish steps ran before the entry
    assert [s.name for s in written.steps] == ["back up", "tag", "prune", "forget"] == [s.name for s in d.trail.steps]
    assert written.id == seen.recorded[0].report and d.trail.report == written


def test_a_failing_finish_step_is_in_the_report_and_raised_once_the_success_is_recorded(
    d: Deployment, seen: Recorder
) -> None:
    with pytest.raises(TradebotError, match="prune broke"):
        run(d, attempt(), Procedure((), (seen.step("tag"),), (seen.step("prune", fails=True),)), never)
    assert [(s.name, s.ok) for s in reports(seen)[-1].steps] == [("tag", True), ("prune", False)]
    assert [entry.outcome for entry in seen.recorded] == ["succeeded"]


def test_a_failed_prepare_step_is_recorded_refused_and_raised_without_recovery(d: Deployment, seen: Recorder) -> None:
    steps = Procedure((seen.step("back up", fails=True),), (seen.step("tag"),))
    with pytest.raises(TradebotError, match="back up broke"):
        run(d, attempt(), steps, never)
    assert seen.done == ["back up"]
    (entry,) = seen.recorded
    assert (entry.outcome, entry.cause) == ("refused", "back up broke")  # nothing that ran was stopped


def test_a_failed_switch_step_sets_off_the_recovery_and_stops_the_walk(d: Deployment, seen: Recorder) -> None:

    def recover(exc: Exception) -> NoReturn:
        seen.done.append(f"recover from {exc}")
        raise DeployError("rolled back")

    steps = Procedure(
        (), (seen.step("tag"), seen.step("start", fails=True), seen.step("verify")), (seen.step("prune"),)
    )
    with pytest.raises(DeployError, match="rolled back"):
        run(d, attempt(), steps, recover)
    assert seen.done == ["tag", "start", "recover from start broke"]
    assert seen.recorded == [] and len(seen.started) == 1  # the recovery records its own end


def test_the_steps_beside_the_standby_run_meanwhile_and_the_switch_waits_for_both(
    d: Deployment, seen: Recorder
) -> None:
    backing, standing = threading.Event(), threading.Event()

    def back_up() -> None:  # it ends only once the standby has begun: the two overlap
        backing.set()
        assert standing.wait(10), "the standby never started beside the backup"
        seen.done.append("back up")

    def start() -> None:
        standing.set()
        assert backing.wait(10), "the backup never started beside the standby"
        seen.done.append("start")

    steps = Procedure((), (seen.step("stop old"),), (), (Step("start", start),), (Step("back up", back_up),))
    run(d, attempt(), steps, never, lambda exc, beside: never(exc))
    assert seen.done[-1] == "stop old" and sorted(seen.done[:2]) == ["back up", "start"]
    assert sorted(s.name for s in reports(seen)[0].steps) == ["back up", "start", "stop old"]
    assert any(re.fullmatch(r"deploy: back up … ok \d+\.\d s", line) for line in seen.said), seen.said


def test_steps_that_end_out_of_order_are_kept_in_the_order_they_started() -> None:
    ticks = iter([0.0, 1.0, 2.0, 3.0])  # back up starts, start starts, start ends, back up ends
    kept = trail.Trail(clock=lambda: next(ticks))
    with kept.step("back up"), kept.step("start"):
        pass
    assert [(s.name, s.started, s.seconds) for s in kept.steps] == [("back up", 0.0, 3.0), ("start", 1.0, 1.0)]


@pytest.mark.parametrize("failing", ["start", "back up"])
def test_a_failure_in_or_beside_the_standby_is_discarded_once_both_have_ended(
    d: Deployment, seen: Recorder, failing: str
) -> None:
    ended = threading.Event()

    def back_up() -> None:
        time.sleep(0.05)  # still running when the standby fails
        seen.done.append("back up")
        ended.set()
        if failing == "back up":
            raise TradebotError("back up broke")

    def discard(exc: Exception, beside: bool) -> NoReturn:
        seen.done.append(f"discard {exc} ({'beside' if beside else 'standby'})")
        assert ended.is_set(), "discarded while the backup still ran"
        raise DeployError("refused")

    standby = (seen.step("start", fails=failing == "start"), seen.step("wait"))
    steps = Procedure((), (seen.step("stop old"),), (), standby, (Step("back up", back_up),))
    with pytest.raises(DeployError, match="refused"):
        run(d, attempt(), steps, never, discard)
    where = "beside" if failing == "back up" else "standby"
    assert seen.done[-1] == f"discard {failing} broke ({where})" and "stop old" not in seen.done


def test_an_attempt_without_a_release_image_is_not_recorded(d: Deployment, seen: Recorder) -> None:
    record(d, Attempt("restore", None, LiveTags(None, None), restored_from="b"), ledger.SUCCEEDED)
    assert seen.recorded == []


def test_a_plan_names_the_same_steps_and_their_commands_and_runs_nothing(seen: Recorder) -> None:
    up = Step("recreate bot and worker", seen.step("up").action, ("docker", "compose", "-p", "my project", "up"))
    assert plan_lines(Procedure((seen.step("back up"),), (up,)).steps) == [
        "would back up",
        "would recreate bot and worker: docker compose -p 'my project' up",
    ]
    assert seen.done == []


class FailingRecords(MemoryRecords):
    """Records whose ledger writes fail `failures` times (a removed lock container, a full meta volume)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def append(self, entry: ledger.Entry, files: Mapping[str, bytes] | None = None, key: str | None = None) -> str:
        if self.failures:
            self.failures -= 1
            raise docker.errors.NotFound("No such container: p-deploy-lock")
        return super().append(entry, files, key)


def test_a_ledger_write_that_fails_once_is_tried_again_and_the_release_is_recorded(
    d: Deployment, seen: Recorder
) -> None:
    records = FailingRecords(failures=1)
    d = dataclasses.replace(d, records=records)
    run(d, attempt(), Procedure((), (seen.step("start"),), (seen.step("prune"),)), never)
    assert [entry.outcome for entry in records.ledger] == ["succeeded"] and d.trail.recorded
    assert seen.done == ["start", "prune"] and any("trying once more" in line for line in seen.said)


def test_a_live_verified_release_whose_record_fails_is_not_undone_and_says_not_recorded(
    d: Deployment, seen: Recorder
) -> None:
    records = FailingRecords(failures=2)
    d = dataclasses.replace(d, records=records)
    with pytest.raises(NotRecorded) as raised:
        run(d, attempt(), Procedure((), (seen.step("start"),), (seen.step("prune"),)), never)  # no recovery
    assert raised.value.exit_code == 12 and "live and verified" in raised.value.message
    assert "next `invoke deploy`" in raised.value.hint
    assert seen.done == ["start", "prune"] and records.ledger == []
    assert (d.trail.outcome, d.trail.recorded) == ("succeeded", False)
    document = trail.document(d.trail, "p_meta", raised.value)
    assert (document["outcome"], document["recorded"], document["report"], document["exit_code"]) == (
        "succeeded",
        False,
        "",
        12,
    )
