"""Undoing a killed attempt (`recover.finish_interrupted`): which release it makes live, what it runs, what it records.

A journal file without its ledger entry is an attempt killed on the way; the next changing command undoes it.
The kills themselves, at every step boundary on the real engine: tests/integration/test_killed_deploy.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from deploy.errors import ImageMissing
from deploy.ids import short
from deploy.procedures import recover
from deploy.procedures.procedure import Deployment
from deploy.procedures.services import FAILED_STOP_SECONDS
from deploy.records import journal, ledger
from deploy.steps.images import ReleaseImage
from deploy.steps.tags import LiveTags
from tests.unit.deploy.procedures.site import NEW, OLD, OLDER, Recorder, Site, success


def killed(seen: Recorder, image: ReleaseImage, event: str = "deploy", backup: str = "") -> ledger.Entry:
    """Journal an attempt that was killed before its ledger entry."""
    entry = ledger.Entry(
        event,
        image.commit,
        image.image_id,
        image.code_digest,
        "t9",
        "",
        "me",
        journal.STARTED,
        backup=backup,
        attempt=f"killed-{event}",
    )
    seen.records.journal.append(entry)
    return entry


def test_with_no_interrupted_attempt_nothing_is_done(d: Deployment, seen: Recorder, site: Site) -> None:
    seen.records.ledger.append(success(OLD, attempt="a1"))
    seen.records.journal.append(dataclasses.replace(success(OLD, attempt="a1"), outcome=journal.STARTED))
    recover.finish_interrupted(d)
    assert (seen.done, seen.said, site.tagged, seen.records.writes) == ([], [], [], [])


def test_helpers_a_killed_run_left_are_said_to_be_removed(d: Deployment, seen: Recorder, site: Site) -> None:
    site.leftovers.append("p-helper-1")
    recover.finish_interrupted(d)
    assert seen.said == ["removed helper containers a killed run left behind"]


def test_a_killed_deploy_is_undone_by_running_the_newest_success_with_its_settings(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    site.add(OLDER)
    site.add(OLD)
    seen.records.ledger += [success(OLDER), success(OLD, runtime={"TRADEBOT_TICK_SECONDS": "0.2"}), success(OLD)]
    interrupted = killed(seen, NEW)
    recover.finish_interrupted(d)
    assert site.tagged == [LiveTags(OLD, OLDER)]  # previous: the success before it of another image
    assert seen.done == [f"start {short(OLD.commit)} ({FAILED_STOP_SECONDS} s to stop the old)"]
    assert site.started_with == [{}]  # the newest success of its image recorded no settings
    ended = seen.recorded[-1]
    assert (ended.attempt, ended.commit, ended.outcome, ended.finished_at != "") == (
        interrupted.attempt,
        NEW.commit,
        ledger.FAILED,
        True,
    )
    runs = short(OLD.commit)
    assert ended.cause == f"interrupted before it finished; undone by the next run ({runs} runs)"
    assert seen.said[0] == f"an interrupted deploy of {short(NEW.commit)} (started t9 by me) …"
    assert seen.said[-1] == f"the interrupted attempt is undone: {runs} runs"
    assert journal.unfinished(seen.records.started(), seen.records.entries()) == []


@pytest.mark.parametrize(
    ("healthy", "recreated"), [({"bot", "worker"}, False), ({"bot"}, True), (set(), True)], ids=["both", "bot", "none"]
)
def test_a_release_is_recreated_unless_both_services_already_run_it_healthy(
    d: Deployment, seen: Recorder, site: Site, healthy: set[str], recreated: bool
) -> None:
    site.add(OLD)
    site.healthy |= healthy
    seen.records.ledger.append(success(OLD))
    killed(seen, NEW, event="rollback")
    recover.finish_interrupted(d)
    assert site.tagged == [LiveTags(OLD, None)]
    assert seen.done == ([f"start {short(OLD.commit)} ({FAILED_STOP_SECONDS} s to stop the old)"] if recreated else [])
    assert seen.recorded[-1].outcome == ledger.FAILED


def test_with_no_success_at_all_the_services_are_removed_and_the_tags_dropped(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    site.add(NEW)
    killed(seen, NEW)
    recover.finish_interrupted(d)
    assert seen.done == [f"remove {short(NEW.commit)} ({FAILED_STOP_SECONDS} s)"]
    assert site.tagged == [LiveTags(None, None)]
    assert seen.said[-1] == "the interrupted attempt is undone: nothing runs"


def test_a_killed_restore_puts_the_state_it_kept_back_before_the_release_runs_again(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    site.add(OLD)
    site.volumes.add("p_state-backup-7")
    seen.records.ledger.append(success(OLD))
    killed(seen, OLD, event="restore", backup="p_state-backup-7")
    recover.finish_interrupted(d)
    old = short(OLD.commit)
    assert seen.done == [
        f"remove {old} ({FAILED_STOP_SECONDS} s)",
        "copy p_state-backup-7 into the state volume",
        f"start {old} ({FAILED_STOP_SECONDS} s to stop the old)",
    ]


def test_a_killed_restore_whose_kept_state_is_gone_starts_the_release_on_what_is_there(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    site.add(OLD)
    seen.records.ledger.append(success(OLD))
    killed(seen, OLD, event="restore", backup="p_state-backup-7")  # killed before it made the backup
    recover.finish_interrupted(d)
    assert seen.done == [f"start {short(OLD.commit)} ({FAILED_STOP_SECONDS} s to stop the old)"]


def test_a_success_whose_image_is_gone_is_named(d: Deployment, seen: Recorder) -> None:
    seen.records.ledger.append(success(OLD))
    killed(seen, NEW)
    with pytest.raises(ImageMissing) as missing:
        recover.finish_interrupted(d)
    assert (missing.value.message, missing.value.hint) == (
        f"image {short(OLD.image_id)} of {short(OLD.commit)} is not on the engine",
        "build it again and deploy it",
    )
    assert seen.recorded == [success(OLD)]  # nothing recorded as undone: the next run tries again
