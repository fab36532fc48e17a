"""`invoke fleet-move MEMBER --to ENGINE` between private engines, the member first reached through ssh: it moves with
its state and ledger, proven identical, runs verified on the new engine, and the old one refuses to run it again; at
no moment does its state have containers on both engines."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import docker
import pytest

from deploy.records import ledger
from deploy.steps import lock, moves
from tests.integration.engines import copy_image, second_engine
from tests.integration.fleets import OneWriter, Seat, fleet_file, fleet_invoke, live_commit, remove, running
from tests.integration.sshd import SSHD, sshd_to
from testsupport.cli import invoke
from testsupport.sandbox import Sandbox, git

pytestmark = pytest.mark.skipif(not SSHD.exists() or not shutil.which("ssh"), reason="./bootstrap installs openssh")

TASK_TIMEOUT = 1200
FAST = '[settings]\nTRADEBOT_TICK_SECONDS = "0.2"\nTRADEBOT_WORKER_POLL_SECONDS = "0.2"\n'


def state_generation(box: Sandbox, engine: docker.DockerClient, volume: str) -> int:
    """The generation of the state document in `volume`."""
    text = engine.containers.run(
        box.settings.base_image or "",
        ["cat", "/v/live_portfolio.json"],
        volumes={volume: {"bind": "/v", "mode": "ro"}},
        network_disabled=True,
        remove=True,
    )
    return int(json.loads(text)["generation"])


def test_a_member_moves_by_hand_with_its_state_and_ledger_and_the_old_engine_refuses_it(
    sandbox: Sandbox, docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    with second_engine() as old, second_engine() as new, sshd_to(str(old.socket), os.environ["PATH"]) as ssh:
        for engine in (old, new):
            copy_image(docker_client, engine.client, base_image)
        there = Seat("m", f"{sandbox.settings.project}-m", ssh.docker_host, old.client)
        here = dataclasses.replace(there, address=new.address, engine=new.client)
        fleet = fleet_file(tmp_path / "fleet.toml", [there], FAST)
        good = git(sandbox.repo, "rev-parse", "HEAD")
        try:
            with OneWriter([there, here]) as watch:
                done, _ = fleet_invoke(sandbox, fleet, "fleet-release", timeout=TASK_TIMEOUT, PATH=ssh.path)
                assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
                done, report = fleet_invoke(
                    sandbox,
                    fleet,
                    "fleet-move",
                    "m",
                    "--to",
                    new.address,
                    "--json",
                    timeout=TASK_TIMEOUT,
                    PATH=ssh.path,
                )
                assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            assert watch.seen == [] and watch.samples > 10, watch.seen[:5]
            moved_with_its_state(sandbox, report, there, here, good)
            refused_where_it_left(sandbox, fleet, there, here, ssh.path)
        finally:
            remove(sandbox, [there, here])


def moved_with_its_state(box: Sandbox, report: dict, there: Seat, here: Seat, good: str) -> None:
    settings = dataclasses.replace(box.settings, project=there.project)
    assert (report["ok"], report["commit"], report["to"]) == (True, good, here.address)
    assert [c["volume"] for c in report["carried"]] == [settings.state_volume, settings.meta_volume]
    assert report["deploy"]["ok"] and report["deploy"]["verify"]["ok"]
    assert (running(there), set(running(here))) == ({}, {"bot", "worker"})
    assert live_commit(here) == good
    assert settings.state_volume not in {v.name for v in there.engine.volumes.list()}
    marked = moves.moved_to(settings, there.engine)
    assert marked is not None and (marked.to, marked.final_backup) == (here.address, report["final_backup"])
    final = state_generation(box, there.engine, report["final_backup"])
    assert state_generation(box, here.engine, settings.state_volume) >= final
    events = [(e.event, e.outcome) for e in ledger.read(settings, here.engine)]
    assert events == [("deploy", "succeeded"), ("deploy", "succeeded")]  # its first release there, then here


def refused_where_it_left(box: Sandbox, fleet: Path, there: Seat, here: Seat, path: str) -> None:
    done = invoke(box, "deploy", TRADEBOT_PROJECT=there.project, DOCKER_HOST=there.address, PATH=path, timeout=600)
    assert done.returncode == 10 and f"{there.project} moved to unix://" in done.stderr, done.stderr
    done, _ = fleet_invoke(box, fleet, "fleet-move", "m", "--to", here.address, timeout=600, PATH=path)
    assert done.returncode == 10 and f"{there.project} already moved from the source to {here.address}" in done.stderr


def test_a_move_that_fails_on_the_target_puts_the_member_back_on_its_engine(
    sandbox: Sandbox, docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    """The target's deploy lock is held (by this test) when the move deploys there: after the stop, the backup and
    the copies, the deploy is refused; what the move made on the target goes and the member runs on its engine."""
    with second_engine() as old, second_engine() as new:
        for engine in (old, new):
            copy_image(docker_client, engine.client, base_image)
        there = Seat("m", f"{sandbox.settings.project}-m", old.address, old.client)
        here = dataclasses.replace(there, address=new.address, engine=new.client)
        settings = dataclasses.replace(sandbox.settings, project=there.project)
        fleet = fleet_file(tmp_path / "fleet.toml", [there], FAST)
        try:
            done, _ = fleet_invoke(sandbox, fleet, "fleet-release", timeout=TASK_TIMEOUT)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            with lock.held(settings, new.client, "a test holding the target"):
                done, _ = fleet_invoke(sandbox, fleet, "fleet-move", "m", "--to", new.address, timeout=TASK_TIMEOUT)
            assert done.returncode == 7, done.stdout[-3000:] + done.stderr[-3000:]
            assert f"moving {there.project} to {new.address} failed (deploy lock held by" in done.stderr
            assert "it runs on the source again" in done.stderr
            assert set(running(there)) == {"bot", "worker"} and running(here) == {}
            names = {v.name for v in new.client.volumes.list()}
            assert not names & {settings.state_volume, settings.meta_volume}, names
            assert moves.moved_to(settings, old.client) is None
            assert settings.state_volume in {v.name for v in old.client.volumes.list()}
        finally:
            remove(sandbox, [there, here])
