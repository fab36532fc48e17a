"""Names and labels of the volumes a rebuild makes, and the helper's files and command lines."""

from __future__ import annotations

from datetime import UTC, datetime

from deploy.engine import compose
from deploy.rebuild import labels
from deploy.steps import backups

AT = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def test_the_state_volume_carries_the_labels_compose_gives_a_volume_it_made() -> None:
    made = labels.state_labels("tb", "state", "2.40.3", "clawbot-openclaw", "clawbot-openclaw-backup-1")
    assert made == {
        "com.docker.compose.project": "tb",
        "com.docker.compose.volume": "state",
        "com.docker.compose.version": "2.40.3",
        "io.tradebot.rebuilt-from": "clawbot-openclaw",
        "io.tradebot.legacy-backup": "clawbot-openclaw-backup-1",
    }
    assert labels.rebuilt_from(made) == "clawbot-openclaw" and labels.rebuilt_from(None) is None


def test_a_legacy_backup_is_labelled_like_a_state_backup_of_its_source() -> None:
    assert labels.backup_labels("legacy", AT) == {backups.BACKUP_OF: "legacy", backups.CREATED: AT.isoformat()}


def test_the_journal_volume_is_named_after_the_state_volume() -> None:
    assert backups.rebuild_marker("tb_state") == "tb_state-rebuilding"
    assert labels.journal_labels("legacy", "b", AT)[backups.REBUILD_OF] == "legacy"


def test_compose_version_argv() -> None:
    assert compose.version(["docker", "compose"]) == ["docker", "compose", "version", "--short"]
