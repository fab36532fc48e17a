"""A state backup (`backups.backup_state`) taken in the helper container while a worker commits in a tight loop."""

from __future__ import annotations

import json

import docker

from deploy.steps import backups
from testsupport.committer import WRITER, committed
from testsupport.sandbox import Sandbox
from testsupport.waiting import wait_for

CHECK = """
import json, sqlite3
db = sqlite3.connect("/v/commands.sqlite3")
ids = [row[0] for row in db.execute("SELECT id FROM commands")]
print(json.dumps({"integrity": db.execute("PRAGMA integrity_check").fetchone()[0], "ids": ids}))
"""


def test_backups_taken_while_the_worker_commits_pass_integrity_check_and_hold_every_earlier_command(
    sandbox: Sandbox, worktree_image: str
) -> None:
    settings, engine = sandbox.settings, sandbox.engine
    engine.volumes.create(settings.state_volume)
    writer = engine.containers.run(
        worktree_image,
        entrypoint=["python3", "-c", WRITER, "/var/lib/tradebot", "/dev/stdout"],
        name=f"{settings.project}-writer",
        volumes={settings.state_volume: {"bind": "/var/lib/tradebot"}},
        network_disabled=True,
        detach=True,
    )
    try:
        wait_for(lambda: len(committed(writer.logs().decode())) >= 50 or not running(writer), 60, "50 commits")
        assert running(writer), f"the writer died: {writer.logs().decode()[-500:]}"
        for _ in range(3):
            before = committed(writer.logs().decode())
            backup = backups.backup_state(settings, engine, settings.base_image or "", prune=False)
            found = json.loads(sandbox.in_volume(backup or "", f"python3 -c '{CHECK}'"))
            assert found["integrity"] == "ok"
            assert before <= set(found["ids"])
            assert running(writer)  # the backup never stopped the writer
    finally:
        writer.remove(force=True)


def running(container: docker.models.containers.Container) -> bool:
    container.reload()
    return container.status == "running"
