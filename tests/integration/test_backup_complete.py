"""A state backup counts only when complete (#19): written, proven, marked; an incomplete one is never restored.

The case from the issue: a deploy killed in the middle of its backup left a half-copied backup listed as
the newest, and `invoke restore` put it back and said it succeeded. Here a backup volume is left as such a
kill leaves it (made by this version, half its files, no marker), beside a complete one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deploy.steps import backupproof, backups
from tests.integration.test_pipeline_errors import invoke, refused
from testsupport.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("fast_ticks")


def test_a_half_made_backup_is_named_incomplete_never_restored_and_pruned_first(sandbox: Sandbox) -> None:
    settings, engine = sandbox.settings, sandbox.engine
    assert invoke(sandbox, "build", "deploy").returncode == 0
    assert invoke(sandbox, "deploy").returncode == 0  # its backup: complete, proven and marked
    (complete,) = backups.listed(settings, engine)
    marker = backupproof.read_all(settings, engine)[complete.name]
    assert complete.state == backups.COMPLETE and marker.files >= 2 and marker.bytes > 0

    killed = backups.backup_name(settings.state_volume, datetime.now(UTC))
    labels = {backups.BACKUP_OF: settings.state_volume, backups.CREATED: "9999-12-31T00:00:00+00:00"}
    engine.volumes.create(killed, labels={**labels, backupproof.PROOF_LABEL: "marker"})
    sandbox.in_volume(killed, "head -c 10 /dev/zero > /v/live_portfolio.json")  # half a copy, as a kill leaves it

    listing = invoke(sandbox, "backups").stdout
    assert f"{killed}  INCOMPLETE: never proven, never restored" in listing and complete.name in listing
    refused(invoke(sandbox, "restore", "--backup", killed), 5, f"state backup {killed} is incomplete")
    restored = invoke(sandbox, "restore")  # the newest restorable one: the complete backup, not the newer half one
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"holds {complete.name}" in restored.stdout
    assert killed not in [backup.name for backup in backups.listed(settings, engine)]  # its prune removed it
