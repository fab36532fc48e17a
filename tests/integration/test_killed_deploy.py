"""`invoke deploy`, `rollback`, `restore` and `verify` killed with SIGKILL: nothing left behind blocks the next command.

Deploy, rollback and restore are killed at each step boundary, in a loop: after every kill the next
command of that kind must succeed (undoing the killed attempt first), and then what runs, `:live` and
the ledger agree (`status` names no disagreement), no helper or probe container is left and the
backups stay within their limit. A `verify` killed while its probe container exists leaves it behind
only until the next command of any kind.

One sandbox with two releases built serves every test of this module (in file order); each test
starts from whatever the previous one left live, which is itself a check that nothing wedged.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from deploy.engine import helpers
from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.procedures import rollback as rolling_back
from deploy.procedures.restore import restore
from deploy.records import journal, ledger, meta
from deploy.steps import backups, status, tags
from deploy.steps.images import ReleaseImage
from deploy.verify import verify
from tests.integration.conftest import FAST_TICKS, ROOT
from testsupport.cli import invoke
from testsupport.sandbox import Sandbox, quiet
from testsupport.waiting import wait_for

KEEP_BACKUPS = "2"


@dataclasses.dataclass(frozen=True)
class Two:
    box: Sandbox
    first: ReleaseImage
    second: ReleaseImage

    def other(self, commit: str) -> str:
        return self.second.commit if commit == self.first.commit else self.first.commit


@pytest.fixture(scope="module")
def two(module_sandbox: Sandbox, docker_client: docker.DockerClient) -> Two:
    """Two releases built (the second: one trading file differs), the first deployed; shared by the module."""
    box, repo = module_sandbox, Repository(module_sandbox.repo)
    first = build.build(box.settings, docker_client, repo, say=quiet)
    source = (box.repo / "trading/strategy.py").read_text()
    box.commit("release two", {"trading/strategy.py": source + "# 2\n"})
    second = build.build(box.settings, docker_client, repo, say=quiet)
    deploying.deploy(box.settings, docker_client, repo, rev=first.commit, say=quiet)
    return Two(box, first, second)


def environ(box: Sandbox) -> dict[str, str]:
    return {**os.environ, **FAST_TICKS, "PYTHONUNBUFFERED": "1", "TRADEBOT_KEEP_BACKUPS": KEEP_BACKUPS, **box.environ()}


UNDONE = "the interrupted attempt is "  # undone, or completed: it went live and verifies
COMPLETED = "completed by the next command"  # the cause recorded for an attempt completed so


def kill_at_step(box: Sandbox, step: int, task: str, *args: str, undone: Callable[[int], None]) -> list[str]:
    """Start `invoke TASK ARGS`, SIGKILL it as its `step`-th step starts; what it said (ending in that step).

    When it says it undid (or completed) a killed attempt, it is stopped (SIGSTOP) while `undone(its pid)` looks at
    what the undo left, then goes on: it has not started an attempt of its own yet.
    """
    argv = [sys.executable, "-m", "invoke", task, "--verbose", *args]  # verbose: each step is said when it starts
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=environ(box), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    said, started = [], 0
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            said.append(line)
            if line.startswith(UNDONE):
                os.kill(proc.pid, signal.SIGSTOP)
                try:
                    undone(proc.pid)
                finally:
                    os.kill(proc.pid, signal.SIGCONT)
            started += line.startswith(f"{task}: ") and line.rstrip().endswith(" …")
            if started == step:
                break
    finally:
        proc.kill()
        proc.wait()
    assert started == step, f"the {task} ended before step {step}: {''.join(said)}"
    return said


def killed_at_every_step(box: Sandbox, task: str, steps: int, args: Callable[[int], tuple[str, ...]]) -> None:
    """Kill `invoke TASK` at step 1, 2, … `steps` in turn: each run undoes the attempt killed before it, then dies.

    After each kill `status` names the interrupted attempt (the last step, a prune, runs before the ledger entry
    too); after each undo what runs, `:live` and the ledger agree and nothing is left behind.
    """
    undone: list[int] = []  # the steps whose run undid the attempt killed before it
    for step in range(1, steps + 1):
        check = functools.partial(consistent, box, undone, step)
        kill_at_step(box, step, task, *args(step), undone=check)
        assert (step in undone) == (step > 1), step  # every kill but the last step's leaves an attempt to undo
        said = status.status(box.settings, box.engine).disagreements
        assert any(f"interrupted {task}" in line for line in said), (step, said)


def planned_steps(box: Sandbox, task: str, *args: str) -> int:
    planned = invoke(box, task, "--plan", *args)
    steps = len(re.findall(r"^\s+\d+\. would ", planned.stdout, flags=re.MULTILINE))  # the plan's numbered steps
    assert steps >= 6, planned.stdout + planned.stderr
    return steps


def left_helpers(box: Sandbox, running: int = 0) -> list[str]:
    """The project's helper containers, but those of the process `running`.

    Listed sparse (the list's own data, no inspect per container): a helper removed between the
    list and an inspect would be a 404.
    """
    project = box.settings.project
    found = []
    for label in (helpers.HELPER_OF, meta.META_OF):
        for container in box.engine.containers.list(all=True, sparse=True, filters={"label": f"{label}={project}"}):
            if (container.attrs.get("Labels") or {}).get(helpers.PID) != str(running):
                found.append(str(container.attrs["Names"][0]).lstrip("/"))
    return found


def consistent(box: Sandbox, undone: list[int], step: int, running: int) -> None:
    """After an undo by the (stopped) process `running`: what runs, `:live` and the ledger agree, nothing left."""
    assert status.status(box.settings, box.engine).disagreements == (), step
    assert left_helpers(box, running) == [], step
    undone.append(step)


def agreed(box: Sandbox) -> status.Status:
    """What runs, `:live` and the ledger agree, nothing is left behind, the backups within their limit."""
    now = status.status(box.settings, box.engine)
    assert now.disagreements == (), now.disagreements
    assert left_helpers(box) == []
    assert len(backups.listed(box.settings, box.engine)) <= int(KEEP_BACKUPS)
    assert now.release is not None
    return now


def nothing_unfinished(box: Sandbox) -> None:
    settings, engine = box.settings, box.engine
    assert journal.unfinished(journal.read_started(settings, engine), ledger.read(settings, engine)) == []


@pytest.fixture
def settings_of(two: Two) -> Two:
    """The module's releases (fast ticks: `module_sandbox`), with the backup limit for the library calls of one test."""
    box = dataclasses.replace(two.box, settings=dataclasses.replace(two.box.settings, keep_backups=int(KEEP_BACKUPS)))
    return dataclasses.replace(two, box=box)


@pytest.mark.timeout(600)  # a command killed at each of its steps, one after another
def test_a_deploy_killed_at_every_step_boundary_never_wedges_the_next(settings_of: Two) -> None:
    two, box, repo = settings_of, settings_of.box, Repository(settings_of.box.repo)
    steps = planned_steps(box, "deploy", "--rev", two.second.commit)
    assert steps >= 8
    killed_at_every_step(box, "deploy", steps, lambda step: ("--rev", (two.first, two.second)[step % 2].commit))
    live = tags.get(box.engine, box.settings.live_image)  # killed as it pruned: live and verified, not recorded
    assert live is not None
    deploying.deploy(box.settings, box.engine, repo, rev=two.other(live.commit), say=quiet)
    entries = ledger.read(box.settings, box.engine)
    assert entries[-2].commit == live.commit and entries[-2].cause.startswith(COMPLETED)  # the killed one
    assert agreed(box).release.commit == two.other(live.commit)
    assert entries[-1].previous == live.commit  # never itself
    assert (found := verify(box.settings, box.engine, repo)).ok, found.summary()
    nothing_unfinished(box)


@pytest.mark.timeout(600)  # a command killed at each of its steps, one after another
def test_a_rollback_killed_at_every_step_boundary_is_finished_or_undone_by_the_next(settings_of: Two) -> None:
    two, box = settings_of, settings_of.box
    settings, engine, repo = box.settings, box.engine, Repository(box.repo)
    if tags.get(engine, settings.previous_image) is None:
        live = tags.get(engine, settings.live_image)
        deploying.deploy(settings, engine, repo, rev=two.other(live.commit if live else ""), say=quiet)
    killed_at_every_step(box, "rollback", planned_steps(box, "rollback"), lambda step: ())
    live = tags.get(engine, settings.live_image)  # killed as it pruned: live and verified, not recorded
    assert live is not None
    rolling_back.rollback(settings, engine, repo, say=quiet)
    assert ledger.read(settings, engine)[-2].cause.startswith(COMPLETED)  # the killed one, by the next
    assert agreed(box).release.commit == two.other(live.commit)
    nothing_unfinished(box)


@pytest.mark.timeout(600)  # a command killed at each of its steps, one after another
def test_a_restore_killed_at_every_step_boundary_is_undone_by_the_next(settings_of: Two) -> None:
    box = settings_of.box
    settings, engine, repo = box.settings, box.engine, Repository(box.repo)
    live = tags.get(engine, settings.live_image)
    assert live is not None
    # the newest complete one: a deploy or rollback killed while its backup ran left that backup incomplete
    chosen = backups.choose(backups.listed(settings, engine), None).name
    killed_at_every_step(box, "restore", planned_steps(box, "restore"), lambda step: ("--backup", chosen))
    newest = backups.choose(backups.listed(settings, engine), None).name
    stray = f"written-after-{newest}"
    box.in_volume(settings.state_volume, f"touch /v/{stray}")
    done = restore(settings, engine, repo, name=newest, say=quiet)
    assert done.restored_from == newest and stray not in box.volume_files(settings.state_volume)
    assert agreed(box).release.image_id == live.image_id
    assert ledger.read(settings, engine)[-1].outcome == ledger.SUCCEEDED
    nothing_unfinished(box)


PAUSE_AT_HELPER = """
import os, signal
from docker.models.containers import ContainerCollection

made = ContainerCollection.create


def create(self, *args, **kwargs):
    container = made(self, *args, **kwargs)
    if "io.tradebot.helper-of" in (kwargs.get("labels") or {}):
        os.kill(os.getpid(), signal.SIGSTOP)  # the test kills this process now: its helper exists
    return container


ContainerCollection.create = create
"""


def stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def kill_verify_at_its_probe(box: Sandbox, hook: Path) -> list[str]:
    """SIGKILL `invoke verify` right after it created its first helper container; the helpers then left.

    `hook` (a sitecustomize.py on PYTHONPATH) stops the process after it created a labelled container.
    """
    hook.joinpath("sitecustomize.py").write_text(PAUSE_AT_HELPER)
    env = {**environ(box), "PYTHONPATH": str(hook)}
    argv = [sys.executable, "-m", "invoke", "verify"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: proc.poll() is not None or stopped(proc.pid), 120, "verify to stop at its helper", every=0.01)
        assert proc.returncode is None, "verify ended without creating a helper container"
    finally:
        proc.kill()  # SIGKILL, also when it never stopped
        proc.wait()
    return left_helpers(box)


def test_a_verify_killed_mid_run_leaves_its_probe_only_until_the_next_command(settings_of: Two, tmp_path: Path) -> None:
    box = settings_of.box
    assert kill_verify_at_its_probe(box, tmp_path), "the killed verify left no helper container"
    assert invoke(box, "status").returncode == 0
    assert left_helpers(box) == []
