"""Restoring a state backup against the real engine: exactly the backup comes back, and a bad one is undone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.engine.git import Repository
from deploy.errors import BackupMissing, RolledBack
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.procedures.restore import restore
from deploy.records import ledger
from deploy.steps import backups
from deploy.verify import verify
from testsupport.sandbox import Sandbox, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")
STRAY = "written-after-the-backup"


@pytest.fixture
def backed_up(sandbox: Sandbox) -> Iterator[tuple[Sandbox, str]]:
    """A live release whose state volume has one backup, and a file written into the state after it."""
    repo = Repository(sandbox.repo)
    built = build.build(sandbox.settings, sandbox.engine, repo, say=quiet)
    deploying.deploy(sandbox.settings, sandbox.engine, repo, rev=built.commit, say=quiet)
    backup = backups.backup_state(sandbox.settings, sandbox.engine, sandbox.settings.base_image or "")  # as deploys do
    assert backup
    sandbox.in_volume(sandbox.settings.state_volume, f"touch /v/{STRAY}")
    yield sandbox, backup


def test_an_unknown_backup_changes_nothing_then_a_restore_brings_back_exactly_the_backup_and_keeps_the_state(
    backed_up: tuple[Sandbox, str],
) -> None:
    box, backup = backed_up
    settings, engine, repo = box.settings, box.engine, Repository(box.repo)
    project = {"label": f"com.docker.compose.project={settings.project}"}
    running = {c.id for c in engine.containers.list(filters=project)}
    with pytest.raises(BackupMissing) as missing:
        restore(settings, engine, repo, name="no-such-backup", say=quiet)
    assert missing.value.data["available"] == [backup]
    assert {c.id for c in engine.containers.list(filters=project)} == running
    assert STRAY in box.volume_files(settings.state_volume)

    done = restore(settings, engine, repo, name=backup, say=quiet)
    assert done.restored_from == backup and done.backup
    assert STRAY not in box.volume_files(settings.state_volume)
    assert "live_portfolio.json" in box.volume_files(settings.state_volume)
    assert STRAY in box.volume_files(done.backup)  # the state from before can be restored in turn
    assert (found := verify(settings, engine, repo)).ok, found.summary()
    last = ledger.read(settings, engine)[-1]
    assert (last.event, last.outcome, last.restored_from, last.backup) == ("restore", "succeeded", backup, done.backup)


def test_a_backup_the_bot_cannot_start_on_is_undone(backed_up: tuple[Sandbox, str]) -> None:
    """No valid state copy in the backup: the store refuses, the bot exits, and the state from before comes back."""
    box, _ = backed_up
    settings, engine, repo = box.settings, box.engine, Repository(box.repo)
    unusable = backups.backup_state(settings, engine, settings.base_image or "", prune=False)
    assert unusable is not None
    box.in_volume(unusable, "find /v -mindepth 1 -delete && echo '{not' > /v/live_portfolio.json && chown 10001 /v/*")

    with pytest.raises(RolledBack, match="the state from before is back") as failed:
        restore(settings, engine, repo, say=quiet)  # the newest backup: the unusable one; the undo must start
    assert "did not start: bot exited" in str(failed.value)  # at once, caught exited or restarted: no slowness
    assert STRAY in box.volume_files(settings.state_volume)
    assert (found := verify(settings, engine, repo)).ok, found.summary()
    last = ledger.read(settings, engine)[-1]
    assert (last.event, last.outcome, last.restored_from) == ("restore", "rolled_back", unusable)  # state is back
    assert last.evidence and any("live_portfolio.json" in line for kept in last.evidence for line in kept["lines"])


def test_with_nothing_deployed_only_the_volume_is_restored(backed_up: tuple[Sandbox, str]) -> None:
    box, backup = backed_up
    settings, engine = box.settings, box.engine
    project = {"label": f"com.docker.compose.project={settings.project}"}
    for container in engine.containers.list(all=True, filters=project):
        container.remove(force=True)
    engine.images.remove(settings.live_image, noprune=True)
    entries = len(ledger.read(settings, engine))

    done = restore(settings, engine, Repository(box.repo), name=backup, say=quiet)
    assert (done.restored_from, done.image) == (backup, None)
    assert STRAY not in box.volume_files(settings.state_volume)
    assert not engine.containers.list(all=True, filters=project)
    assert len(ledger.read(settings, engine)) == entries  # the ledger is of releases
