"""One writer per state volume (issue 18, attack 7): a foreign container mounting the state refuses every change.

Deploy and restore looked only at the project's Compose containers: a second stack or a hand-run container
mounting `<project>_state` was ignored, and a restore copied state into the volume while that other bot ran.
Now deploy, rollback and restore refuse with `ForeignWriters` (exit 10) before anything stops, naming each;
verify fails `one writer` and status lists them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from deploy.engine import compose
from deploy.engine.client import compose_argv
from deploy.engine.git import Repository
from deploy.errors import ForeignWriters
from deploy.procedures import build, restore, rollback
from deploy.procedures import deploy as deploying
from deploy.records import ledger
from deploy.steps import backups, status
from deploy.verify import verify
from testsupport.sandbox import Sandbox, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")


@dataclass
class Intruded:
    box: Sandbox
    repo: Repository
    first: str  # the commit deployed first (`:previous` now)
    writers: list[str]  # `<name> (image …, <state>) mounts <state volume>` of each intruder


def running(box: Sandbox) -> dict[str, tuple[str, str]]:
    label = {"label": f"com.docker.compose.project={box.settings.project}"}
    return {c.name: (c.id, c.attrs["State"]["StartedAt"]) for c in box.engine.containers.list(filters=label)}


def state_backups(box: Sandbox) -> set[str]:
    return {b.name for b in backups.listed(box.settings, box.engine)}


def other_stack(box: Sandbox, *args: str) -> None:
    """A second Compose project whose service mounts this deployment's state volume (declared external)."""
    stack = box.repo.parent / "other-stack.yml"
    stack.write_text(
        f"services:\n  other:\n    image: {box.settings.base_image}\n    command: [sleep, '600']\n"
        f"    volumes: [state:/s]\nvolumes:\n  state:\n    external: true\n    name: {box.settings.state_volume}\n"
    )
    argv = [*compose_argv(box.settings), "-f", str(stack), "-p", f"{box.settings.project}-other", *args]
    done = subprocess.run(argv, capture_output=True, text=True, env=compose.env(box.settings, os.environ))
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def intruded(module_sandbox: Sandbox) -> Iterator[Intruded]:
    """Two releases deployed (so there is a backup and a `:previous`), then two foreign writers of the state."""
    box, repo = module_sandbox, Repository(module_sandbox.repo)
    first = build.build(box.settings, box.engine, repo, say=quiet)
    deploying.deploy(box.settings, box.engine, repo, rev=first.commit, say=quiet)
    box.commit("release B", {"trading/heartbeat.py": (box.repo / "trading/heartbeat.py").read_text() + "# B\n"})
    build.build(box.settings, box.engine, repo, say=quiet)
    deploying.deploy(box.settings, box.engine, repo, say=quiet)
    hand = box.engine.containers.run(
        box.settings.base_image,
        ["sleep", "600"],
        name=f"{box.settings.project}-by-hand",
        volumes={box.settings.state_volume: {"bind": "/s", "mode": "rw"}},
        network_disabled=True,
        detach=True,
    )
    box.engine.containers.run(  # read-only: no writer, never named
        box.settings.base_image,
        ["sleep", "600"],
        name=f"{box.settings.project}-reader",
        volumes={box.settings.state_volume: {"bind": "/s", "mode": "ro"}},
        network_disabled=True,
        detach=True,
    )
    other_stack(box, "up", "-d")
    other = box.engine.containers.get(f"{box.settings.project}-other-other-1")
    volume = box.settings.state_volume
    named = sorted(f"{c.name} (image {c.image.id.split(':')[1][:12]}, running) mounts {volume}" for c in (hand, other))
    yield Intruded(box, repo, first.commit, named)
    other_stack(box, "down")


def test_restore_refuses_before_it_stops_anything_naming_each_foreign_writer(intruded: Intruded) -> None:
    box = intruded.box
    before, kept = running(box), state_backups(box)

    with pytest.raises(ForeignWriters) as refused:
        restore.restore(box.settings, box.engine, intruded.repo, say=quiet)

    assert refused.value.exit_code == 10
    assert sorted(refused.value.data["writers"]) == intruded.writers
    assert running(box) == before
    assert state_backups(box) == kept  # not even the safety copy of the state was made
    last = ledger.read(box.settings, box.engine)[-1]
    assert (last.event, last.outcome) == ("restore", ledger.REFUSED)


def test_deploy_and_rollback_refuse_in_their_preflight(intruded: Intruded) -> None:
    box = intruded.box
    before, kept = running(box), state_backups(box)

    with pytest.raises(ForeignWriters) as deploy_refused:
        deploying.deploy(box.settings, box.engine, intruded.repo, rev=intruded.first, say=quiet)
    with pytest.raises(ForeignWriters) as rollback_refused:
        rollback.rollback(box.settings, box.engine, intruded.repo, say=quiet)

    for refused in (deploy_refused, rollback_refused):
        assert sorted(refused.value.data["writers"]) == intruded.writers
    assert running(box) == before
    assert state_backups(box) == kept


def test_verify_fails_one_writer_and_status_names_them(intruded: Intruded) -> None:
    box = intruded.box
    report = verify(box.settings, box.engine, intruded.repo)
    assert {(c.target, c.name) for c in report.checks if not c.ok} == {("state volume", "one writer")}
    found = status.status(box.settings, box.engine)
    for name in (line.split(" (")[0] for line in intruded.writers):  # each named once (`steps.occupants` or here)
        assert len([line for line in found.disagreements if name in line]) == 1, (name, found.disagreements)
