"""`invoke fleet-status` over private engines, one reached through ssh: every member at once, a frozen engine named
unreachable within its member's timeout while the others answer."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import docker
import pytest

from tests.integration.engines import copy_image, second_engine
from tests.integration.fleets import Seat, by_member, fleet_file, fleet_invoke, remove
from tests.integration.sshd import SSHD, sshd_to
from testsupport.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not SSHD.exists() or not shutil.which("ssh"), reason="./bootstrap installs openssh")

FROZEN_TIMEOUT = 8  # the frozen member's own status_timeout
SSH_TIMEOUT = 300  # the ssh member's: every engine connection is an `ssh … docker system dial-stdio`


def test_a_frozen_engine_is_named_unreachable_within_its_timeout_and_holds_up_nobody(
    sandbox: Sandbox, docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    with second_engine() as local, second_engine() as remote, sshd_to(str(remote.socket), os.environ["PATH"]) as ssh:
        copy_image(docker_client, local.client, base_image)
        seats = [
            Seat("near", f"{sandbox.settings.project}-near", local.address, local.client, "status_timeout = 8"),
            Seat("far", f"{sandbox.settings.project}-far", ssh.docker_host, remote.client, "status_timeout = 300"),
        ]
        fleet = fleet_file(tmp_path / "fleet.toml", seats)
        try:
            done, answered = fleet_invoke(sandbox, fleet, "fleet-status", "--json", timeout=600, PATH=ssh.path)
            assert done.returncode == 0, done.stdout + done.stderr
            assert [m["status"]["deployed"] for m in answered["members"]] == [False, False]
            assert len({m["engine_id"] for m in answered["members"]}) == 2
            os.kill(local.pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                done, frozen = fleet_invoke(sandbox, fleet, "fleet-status", "--json", timeout=600, PATH=ssh.path)
                took = time.monotonic() - started
            finally:
                os.kill(local.pid, signal.SIGCONT)
            members = by_member(frozen)
            assert done.returncode == 3, done.stdout + done.stderr
            assert (
                members["near"]["unreachable"]
                == f"no answer within {FROZEN_TIMEOUT} s (its engine or host may be frozen or down)"
            )
            assert members["near"]["seconds"] < FROZEN_TIMEOUT + 5, members["near"]
            assert members["far"]["unreachable"] == "" and members["far"]["status"]["deployed"] is False
            assert "error: no status from near (no answer within 8 s" in done.stderr
            print(f"fleet-status with a frozen member: {took:.1f} s (near killed after {members['near']['seconds']} s)")
        finally:
            remove(sandbox, seats)
