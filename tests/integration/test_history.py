"""One history and one lock per deployment, on the engine: every clone using that engine sees and respects them.

Two clones of one repository deploy one project on one engine, as a CI runner and an
operator's laptop would.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.records import journal, ledger, meta
from deploy.records.view import EngineRecords
from deploy.steps import lock
from deploy.steps.lock import Holder
from testsupport.cli import ROOT, invoke, nothing_deployed, refused
from testsupport.sandbox import Sandbox, git, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")


def second_clone(box: Sandbox, tmp_path: Path) -> Sandbox:
    clone = tmp_path / "clone"
    git(box.repo, "clone", "-q", str(box.repo), str(clone))
    settings = dataclasses.replace(box.settings, repo=clone, home=clone / ".tradebot")
    return Sandbox(clone, settings, box.engine)


def test_two_clones_against_one_engine_see_one_history(sandbox: Sandbox, tmp_path: Path) -> None:
    other = second_clone(sandbox, tmp_path)
    repo = Repository(sandbox.repo)
    built = build.build(sandbox.settings, sandbox.engine, repo, say=quiet)
    deploying.deploy(sandbox.settings, sandbox.engine, repo, say=quiet)

    listed = invoke(other, "releases", "--json")
    assert listed.returncode == 0, listed.stderr
    (entry,) = [json.loads(line) for line in listed.stdout.splitlines()]  # one entry per attempt: its end
    (started,) = journal.read_started(other.settings, other.engine)  # its start, in the journal
    assert started.attempt == entry["attempt"] and started.outcome == journal.STARTED
    assert (entry["commit"], entry["outcome"]) == (built.commit, ledger.SUCCEEDED)
    status = json.loads(invoke(other, "status", "--json").stdout)
    assert status["release"]["deployed_at"] == entry["finished_at"]
    assert not (sandbox.settings.home).exists() and not other.settings.home.exists()  # nothing kept in a checkout


def test_a_deploy_from_one_clone_while_another_holds_the_lock_is_refused_naming_the_holder(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    other = second_clone(sandbox, tmp_path)
    build.build(sandbox.settings, sandbox.engine, Repository(sandbox.repo), say=quiet)
    with lock.held(sandbox.settings, sandbox.engine, "deploy (from the first clone)"):
        result = invoke(other, "deploy")
    refused(result, 6, "deploy lock held by", f"pid {os.getpid()}, deploy (from the first clone)", "invoke unlock")
    nothing_deployed(sandbox)
    assert lock.current(sandbox.settings, sandbox.engine) is None  # the first holder's block released it


def test_a_holder_on_another_machine_is_removed_by_unlock_which_names_it(sandbox: Sandbox) -> None:
    settings, engine = sandbox.settings, sandbox.engine
    elsewhere = Holder("ci@runner-7", "runner-7", 31337, "2026-11-22T04:00:00+00:00", "deploy abc")
    engine.containers.create(settings.base_image, ["true"], name=settings.lock_name, labels=elsewhere.labels("x"))
    refused(invoke(sandbox, "restore"), 6, "ci@runner-7 (pid 31337, deploy abc)", "since 2026-11-22T04:00:00")

    removed = invoke(sandbox, "unlock")
    assert removed.returncode == 0, removed.stderr
    assert f"removed {settings.lock_name}, held by ci@runner-7 (pid 31337, deploy abc) on runner-7" in removed.stdout
    assert lock.current(settings, engine) is None
    assert "no deploy lock" in invoke(sandbox, "unlock").stdout


def test_unlock_refuses_a_holder_alive_on_this_machine_and_leaving_the_lock_removes_only_its_own(
    sandbox: Sandbox,
) -> None:
    settings, engine = sandbox.settings, sandbox.engine
    with lock.held(settings, engine, "deploy (alive)") as first:
        refused(invoke(sandbox, "unlock"), 6, f"pid {os.getpid()}, deploy (alive)", "alive on this machine")
        assert lock.current(settings, engine) == first  # still held: two deploys never run at once

    outlived = lock.held(settings, engine, "deploy (outlives an unlock)")
    outlived.__enter__()
    engine.containers.get(settings.lock_name).remove(force=True)  # `invoke unlock` on another machine
    with lock.held(settings, engine, "deploy (next)") as following:
        outlived.__exit__(None, None, None)  # the first deploy ends while the next one holds the lock
        assert lock.current(settings, engine) == following
    assert lock.current(settings, engine) is None


def test_a_holder_that_died_on_this_machine_is_recognised_and_replaced(sandbox: Sandbox) -> None:
    settings, engine = sandbox.settings, sandbox.engine
    crash = (
        "import os, sys, docker; from deploy.steps import lock; from deploy.config import Settings\n"
        f"settings = Settings(project={settings.project!r}, base_image={settings.base_image!r})\n"
        "with lock.held(settings, docker.from_env(), 'deploy (crashes)'): os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", crash], cwd=ROOT, check=False, timeout=60)
    dead = lock.current(settings, engine)
    assert dead is not None and dead.what == "deploy (crashes)"

    said: list[str] = []
    with lock.held(settings, engine, "deploy (next)", said.append) as holder:
        assert lock.current(settings, engine) == holder
    assert said == [f"lock: {dead.describe()} died on this machine; removing its lock"]


def test_a_local_ledger_is_carried_over_once(sandbox: Sandbox) -> None:
    settings = sandbox.settings
    old = ledger.Entry("deploy", "a" * 40, "sha256:1", "d", "t0", "2026-11-01T10:00:00+00:00", "op@laptop", "succeeded")
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "releases.jsonl").write_text(old.to_json() + "\n" + '{"torn": ')

    said = []
    for _ in range(2):
        listed = invoke(sandbox, "releases", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [ledger.Entry.from_json(line) for line in listed.stdout.splitlines()] == [old]
        said.append(listed.stderr)
    assert said == ["carried 1 entries of the local ledger over to the engine\n", ""]
    assert not (settings.data_dir / "releases.jsonl").exists()
    assert (settings.data_dir / "releases.jsonl.carried-over").exists()


def test_the_lock_holder_reads_and_writes_the_ledger_through_the_lock_container(sandbox: Sandbox) -> None:
    """Under the lock no helper container is made for the ledger; outside it one is (the control).

    The deployment has a record already: before its first there is no meta volume for the lock to mount.
    """
    settings, engine = sandbox.settings, sandbox.engine
    entry = ledger.Entry("deploy", "b" * 40, "sha256:2", "d", "t0", "2026-11-02T10:00:00+00:00", "op@ci", "started")
    ledger.append(settings, engine, dataclasses.replace(entry, outcome=ledger.SUCCEEDED, attempt="a0"))
    since = time.time_ns()
    with lock.held(settings, engine, "the test", say=quiet):
        journal.start(settings, engine, dataclasses.replace(entry, attempt="a1"))
        ledger.append(settings, engine, dataclasses.replace(entry, outcome=ledger.SUCCEEDED, attempt="a1"))
        assert [e.attempt for e in EngineRecords(settings, engine).entries()] == ["a0", "a1"]
    assert [e.attempt for e in journal.read_started(settings, engine)] == ["a1"]  # outside the lock: a helper
    created = engine.events(
        since=since // 10**9,
        until=int(time.time()) + 1,
        decode=True,
        filters={"type": "container", "event": "create", "label": f"{meta.META_OF}={settings.project}"},
    )
    assert len([event for event in created if event["timeNano"] >= since]) == 1  # the engine's filter has seconds
