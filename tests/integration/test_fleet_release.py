"""`invoke fleet-release` and `invoke fleet-verify` over two private engines, the second reached through ssh and
never building: a release reaches both members in order; a crashing commit stops the fleet at the first member,
which runs the earlier release again by itself, while the second is untouched; no state is ever written from
two engines, or on one by anything but its own project."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import docker
import pytest

from tests.integration.engines import copy_image, second_engine
from tests.integration.fleets import (
    OneWriter,
    Seat,
    by_member,
    crashing,
    fleet_file,
    fleet_invoke,
    live_commit,
    remove,
    running,
)
from tests.integration.sshd import SSHD, sshd_to
from testsupport.sandbox import Sandbox, git

pytestmark = pytest.mark.skipif(not SSHD.exists() or not shutil.which("ssh"), reason="./bootstrap installs openssh")

TASK_TIMEOUT = 1200  # a task of the ssh member runs every engine connection through `ssh … docker system dial-stdio`
FAST = '[settings]\nTRADEBOT_TICK_SECONDS = "0.2"\nTRADEBOT_WORKER_POLL_SECONDS = "0.2"\n'


def test_a_crashing_commit_stops_the_fleet_at_the_first_member_and_leaves_the_second_untouched(
    sandbox: Sandbox, docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    with second_engine() as near, second_engine() as far, sshd_to(str(far.socket), os.environ["PATH"]) as ssh:
        for engine in (near, far):
            copy_image(docker_client, engine.client, base_image)
        seats = [
            Seat("near", f"{sandbox.settings.project}-near", near.address, near.client),
            Seat("far", f"{sandbox.settings.project}-far", ssh.docker_host, far.client, "build = false"),
        ]
        fleet = fleet_file(tmp_path / "fleet.toml", seats, FAST)
        good = git(sandbox.repo, "rev-parse", "HEAD")
        try:
            with OneWriter(seats) as watch:
                released_everywhere(sandbox, fleet, seats, good, ssh.path)
                stopped_at_the_first(sandbox, fleet, seats, good, ssh.path)
            assert watch.seen == [] and watch.samples > 10, watch.seen[:5]
        finally:
            remove(sandbox, seats)


def released_everywhere(box: Sandbox, fleet: Path, seats: list[Seat], good: str, path: str) -> None:
    done, report = fleet_invoke(box, fleet, "fleet-release", "--json", timeout=TASK_TIMEOUT, PATH=path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    members = by_member(report)
    assert (report["ok"], report["commit"], report["stopped_at"]) == (True, good, "")
    assert [m["outcome"] for m in report["members"]] == ["released", "released"]
    assert (members["near"]["image"]["how"], members["far"]["image"]["how"]) == ("built", "loaded from near")
    assert members["near"]["image"]["image_id"] == members["far"]["image"]["image_id"]
    assert all(m["report"]["ok"] and m["report"]["verify"]["ok"] for m in report["members"])
    assert [live_commit(seat) for seat in seats] == [good, good]
    done, verified = fleet_invoke(box, fleet, "fleet-verify", "--json", timeout=TASK_TIMEOUT, PATH=path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert verified["point"]["ok"] and [m["facts"]["commit"] for m in verified["members"]] == [good, good]
    print(f"fleet-release of two members: {report['seconds']} s; fleet-verify: {verified['seconds']} s")


def stopped_at_the_first(box: Sandbox, fleet: Path, seats: list[Seat], good: str, path: str) -> None:
    near, far = seats
    far_before = running(far)
    bad = crashing(box)
    done, report = fleet_invoke(box, fleet, "fleet-release", "--json", timeout=TASK_TIMEOUT, PATH=path)
    assert done.returncode == 7, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"error: the fleet release of {bad[:12]} stopped at near: its release failed" in done.stderr
    assert "untouched: far" in done.stderr
    members = by_member(report)
    assert (report["ok"], report["stopped_at"], report["exit_code"]) == (False, "near", 7)
    assert (members["near"]["outcome"], members["far"]["outcome"]) == ("failed", "untouched")
    assert members["near"]["report"]["error_type"] == "RolledBack" and members["far"]["report"] is None
    assert [live_commit(seat) for seat in seats] == [good, good]
    assert running(far) == far_before  # not even recreated
    assert set(running(near)) == {"bot", "worker"}
    done, verified = fleet_invoke(box, fleet, "fleet-verify", "--json", timeout=TASK_TIMEOUT, PATH=path)
    assert done.returncode == 0 and verified["point"]["ok"], done.stdout[-3000:] + done.stderr[-3000:]
