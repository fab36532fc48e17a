"""A restore that fails (`restore._undo`): the state from before goes back, the live release starts on it, and the
message says which of that happened and what to do next."""

from __future__ import annotations

import pytest

from deploy.errors import (
    BackupMissing,
    RollbackFailed,
    RolledBack,
    StartFailed,
    TradebotError,
    VerifyFailed,
)
from deploy.errors import (
    TradebotError as Raised,
)
from deploy.ids import short
from deploy.procedures import restore
from deploy.procedures.procedure import Attempt, Deployment
from deploy.records import ledger
from deploy.steps.images import ReleaseImage
from deploy.steps.tags import LiveTags
from tests.unit.deploy.procedures.site import OLD, Recorder, Site

KEPT, SOURCE = "p_state-backup-9", "p_state-backup-2"
UNHEALTHY = StartFailed("service bot is not healthy: it exited 3")


def restoring(live: ReleaseImage | None = OLD, kept: str = KEPT) -> Attempt:
    return Attempt("restore", live, LiveTags(live, None), backup=kept, restored_from=SOURCE)


def undone(d: Deployment, attempt: Attempt, cause: Exception, kind: type[Raised] = RolledBack) -> Raised:
    """What `_undo` raises: `RolledBack` (7) when the state and release from before are back, else `RollbackFailed`."""
    with pytest.raises(kind) as raised:
        restore._undo(d, attempt, "base", cause)
    assert type(raised.value) is kind and raised.value.exit_code == (7 if kind is RolledBack else 11)
    return raised.value


@pytest.mark.parametrize(
    ("cause", "hint"),
    [
        (UNHEALTHY, "the last lines above say why the bot did not start on that backup"),
        (VerifyFailed("live release aaaa does not verify: bot: code differs"), "the last lines above say why"),
        (TradebotError("copying the backup failed: no space left"), "fix the cause and run `invoke restore` again"),
    ],
    ids=["the release did not start on the backup", "it does not verify on it", "the copy failed"],
)
def test_the_state_from_before_is_put_back_and_the_live_release_started_on_it(
    d: Deployment, seen: Recorder, site: Site, cause: TradebotError, hint: str
) -> None:
    site.volumes.add(KEPT)
    error = undone(d, restoring(), cause)
    assert error.message == (
        f"restore of {SOURCE} failed ({cause.message}); the state from before is back; "
        f"{short(OLD.commit)} runs on it, verified"
    )
    assert error.hint.startswith(hint)
    # the containers that failed on the backup stop before the copy: a restarting bot would write into it
    assert seen.done == [
        f"remove {short(OLD.commit)} (1 s)",
        f"copy {KEPT} into the state volume",
        f"start {short(OLD.commit)}",
    ]
    assert seen.said[0] == f"restore: {cause.message}"
    (entry,) = seen.recorded
    assert (entry.event, entry.outcome, entry.cause) == ("restore", ledger.ROLLED_BACK, cause.message)
    assert (entry.restored_from, entry.backup) == (SOURCE, KEPT)


def test_without_the_kept_state_the_live_release_starts_on_what_the_volume_holds(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    error = undone(d, restoring(), UNHEALTHY)  # the backup of the state from before was never made
    assert (
        error.message == f"restore of {SOURCE} failed ({UNHEALTHY.message}); {short(OLD.commit)} runs on it, verified"
    )
    assert seen.done == [f"start {short(OLD.commit)}"]


def test_with_nothing_deployed_the_state_is_put_back_and_nothing_is_recorded(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    site.volumes.add(KEPT)
    copy_failed = BackupMissing("backup p_state-backup-2 vanished")
    error = undone(d, restoring(live=None), copy_failed)
    assert error.message == f"restore of {SOURCE} failed ({copy_failed.message}); the state from before is back"
    assert seen.done == [f"copy {KEPT} into the state volume"] and seen.recorded == []  # the ledger is of releases


def test_when_the_undo_fails_too_the_kept_backup_is_named(d: Deployment, seen: Recorder, site: Site) -> None:
    site.volumes.add(KEPT)
    site.fails_to_start.add(OLD.commit)
    error = undone(d, restoring(), UNHEALTHY, RollbackFailed)
    again = f"service bot is not healthy: {short(OLD.commit)} never beat"
    assert error.message == (
        f"restore of {SOURCE} failed ({UNHEALTHY.message}) and putting the state back failed too ({again}); "
        "nothing verified runs"
    )
    assert error.hint == f"the state from before is kept in {KEPT}: `invoke restore --backup {KEPT}`"
    (entry,) = seen.recorded
    assert (entry.outcome, entry.cause) == (ledger.ROLLBACK_FAILED, f"{UNHEALTHY.message}; undo failed: {again}")


def test_when_the_undo_fails_without_a_kept_state_the_containers_are_the_place_to_look(
    d: Deployment, site: Site
) -> None:
    site.fails_to_start.add(OLD.commit)
    error = undone(d, restoring(kept=""), UNHEALTHY, RollbackFailed)
    assert error.hint == "look at `invoke status` and the containers' logs"


def test_a_restore_checks_the_writers_stops_the_release_keeps_the_state_copies_the_backup_and_starts_it_again(
    d: Deployment,
) -> None:
    names = [step.name for step in restore.steps(d, restoring(), "base").steps]
    assert names == [
        "check that only bot and worker mount p_state",  # before anything stops: no foreign writer of the state
        f"remove {short(OLD.commit)}",  # with its stop grace period: the bot saves on its way out
        f"keep the state as it is now in {KEPT}",
        f"copy {SOURCE} into p_state",
        f"start {short(OLD.commit)}",
        "prune state backups beyond the newest 5",
    ]
    nothing_deployed = [step.name for step in restore.steps(d, restoring(live=None, kept=""), "base").steps]
    assert nothing_deployed == [
        "check that only bot and worker mount p_state",
        f"copy {SOURCE} into p_state",
        "prune state backups beyond the newest 5",
    ]
