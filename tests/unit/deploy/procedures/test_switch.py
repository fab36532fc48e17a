"""The automatic rollback (`switch.roll_back`): which way back it takes, what it records, what it says and raises.

Each failure path's message is the operator's only account of what runs now: asserted whole.
"""

from __future__ import annotations

import docker.errors
import pytest

from deploy.errors import DeployError, RollbackFailed, RolledBack, StartFailed, TradebotError
from deploy.procedures import switch
from deploy.procedures.procedure import Attempt, Deployment, cause_of
from deploy.procedures.services import FAILED_STOP_SECONDS
from deploy.records import ledger
from deploy.steps.tags import LiveTags
from tests.unit.deploy.procedures.site import NEW, OLD, OLDER, Recorder, Site, success

CAUSE = StartFailed("service bot is not healthy: no heartbeat of its own within 10s")


def failed(d: Deployment, attempt: Attempt, cause: Exception = CAUSE) -> TradebotError:
    with pytest.raises((DeployError, RollbackFailed)) as raised:
        switch.roll_back(d, NEW, attempt, cause)
    return raised.value


def test_with_no_earlier_release_the_failed_services_are_removed_and_the_tags_put_back(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    error = failed(d, Attempt("deploy", NEW, LiveTags(None, None)))
    assert type(error) is DeployError and error.exit_code == 7
    assert (
        error.message
        == f"deploy of {NEW.commit[:12]} failed ({CAUSE.message}); no earlier release, bot and worker removed"
    )
    assert error.hint == "fix the release, build and deploy again; `invoke report` shows its containers' last lines"
    assert seen.done == [f"remove {NEW.commit[:12]} ({FAILED_STOP_SECONDS} s)"]
    assert site.tagged == [LiveTags(None, None)]
    (entry,) = seen.recorded
    assert (entry.commit, entry.outcome, entry.cause, entry.previous) == (NEW.commit, ledger.FAILED, CAUSE.message, "")


def test_the_earlier_release_runs_again_with_the_settings_it_was_deployed_with(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    seen.records.ledger.append(success(OLD, runtime={"TRADEBOT_TICK_SECONDS": "0.2"}))
    before = LiveTags(OLD, OLDER)
    error = failed(d, Attempt("deploy", NEW, before, backup="p_state-backup-1"))
    assert type(error) is RolledBack and error.exit_code == 7
    old, new = OLD.commit[:12], NEW.commit[:12]
    assert error.message == f"deploy of {new} failed ({CAUSE.message}); rolled back, {old} runs again, verified"
    assert error.hint == (
        f"fix the release and deploy again; `invoke report --release {new}` shows its containers' last lines"
    )
    assert error.data == {"failed": NEW.commit, "cause": CAUSE.message, "restored": OLD.commit}
    assert site.tagged == [before]  # live and previous point where they did
    assert seen.done == [f"start {old} ({FAILED_STOP_SECONDS} s to stop the old)"]
    assert site.started_with == [{"TRADEBOT_TICK_SECONDS": "0.2"}]
    assert seen.said[0] == f"deploy: {CAUSE.message}; rolling back to {old} …"
    entry = seen.recorded[-1]
    assert (entry.commit, entry.outcome, entry.cause, entry.previous) == (
        NEW.commit,
        ledger.ROLLED_BACK,
        CAUSE.message,
        OLD.commit,
    )


def test_when_the_earlier_release_fails_too_both_causes_what_runs_and_the_backup_are_named(
    d: Deployment, seen: Recorder, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.fails_to_start.add(OLD.commit)
    now = f"bot of {OLD.commit[:12]} restarting, restarted 3 times, worker of {OLD.commit[:12]} running"
    monkeypatch.setattr(switch, "running_now", lambda _d: now)  # what the engine runs: read from containers
    error = failed(d, Attempt("deploy", NEW, LiveTags(OLD, None), backup="p_state-backup-1"))
    assert type(error) is RollbackFailed
    old, new, again = OLD.commit[:12], NEW.commit[:12], f"service bot is not healthy: {OLD.commit[:12]} never beat"
    assert type(error) is RollbackFailed and error.exit_code == 11  # not 7: nothing verified runs
    assert error.message == (
        f"deploy of {new} failed ({CAUSE.message}) and rolling back to {old} failed too ({again}); "
        f"nothing verified runs; now: {now}"
    )
    assert error.hint == (
        f"the last lines above (and `invoke report`) say why {old} does not start; the state from before is in "
        f"p_state-backup-1, untouched: if the state is what stops {old}, `invoke restore --backup p_state-backup-1` "
        "puts it back under it"
    )
    assert error.data["backup"] == "p_state-backup-1" and error.data["again"] == again
    entry = seen.recorded[-1]
    assert (entry.outcome, entry.cause) == (ledger.ROLLBACK_FAILED, f"{CAUSE.message}; rollback failed: {again}")


def test_a_failed_rollback_without_state_to_back_up_says_so() -> None:
    error = switch.rollback_failed("b" * 40, "it hung", "a" * 40, "it hung too", "nothing", backup="")
    assert error.hint.endswith("say why aaaaaaaaaaaa does not start; there was no state to back up")


def test_a_docker_error_is_named_as_the_engines() -> None:
    assert cause_of(docker.errors.APIError("409 Conflict")) == "Docker engine: 409 Conflict"


def test_a_rollback_that_fails_and_is_rolled_back_is_named_a_rollback(d: Deployment, site: Site) -> None:
    error = failed(d, Attempt("rollback", NEW, LiveTags(OLD, None)))
    assert type(error) is RolledBack
    assert error.message.startswith(f"rollback to {NEW.commit[:12]} failed") or error.message.startswith(
        f"rollback of {NEW.commit[:12]} failed"
    )
    assert "deploy again" not in error.hint


def test_a_switch_backs_up_only_when_there_is_state_then_promotes_starts_and_prunes(d: Deployment) -> None:
    with_state = switch.steps(d, NEW, Attempt("deploy", NEW, LiveTags(OLD, None), backup="p_state-backup-1"))
    new, old = NEW.commit[:12], OLD.commit[:12]
    assert [step.name for step in with_state.prepare][-1] == "back up p_state into p_state-backup-1"
    assert [step.name for step in with_state.switch] == [
        f"tag {NEW.image_id[7:19]} ({new}) as p:live, {OLD.image_id[7:19]} ({old}) as p:previous",
        f"start {new}",
    ]
    assert [step.name for step in with_state.finish] == ["prune release images beyond the newest 5"]
    first = switch.steps(d, NEW, Attempt("deploy", NEW, LiveTags(None, None)))
    assert [step.name for step in first.prepare] == [step.name for step in with_state.prepare][:-1]
    assert first.switch[0].name == f"tag {NEW.image_id[7:19]} ({new}) as p:live"
