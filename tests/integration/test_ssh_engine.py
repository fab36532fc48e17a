"""The whole cycle against a remote engine: DOCKER_HOST=ssh://root@host:port, through an sshd on loopback.

The engine behind the sshd is a second dockerd of the test's own, so the test also
proves nothing lands on the default engine: build, deploy, verify and status run
through the operator's CLI with only DOCKER_HOST (and the `ssh` client's config)
pointing elsewhere. What a second release and a rollback add (a backup, a retag, the
recorded settings) is engine-neutral code the unix-socket tests prove (test_pipeline,
test_faults); over ssh each costs half a minute of `ssh … docker system dial-stdio`.
"""

from __future__ import annotations

import json
import os
import shutil

import docker
import pytest

from tests.integration.conftest import FAST_TICKS
from tests.integration.engines import Engine, copy_image, second_engine
from tests.integration.sshd import SSHD, sshd_to
from testsupport.cli import invoke
from testsupport.sandbox import Sandbox, git

# every engine connection is an `ssh` process running `docker system dial-stdio`: a task takes minutes, not seconds
SSH_TIMEOUT = 600

pytestmark = pytest.mark.skipif(not SSHD.exists() or not shutil.which("ssh"), reason="./bootstrap installs openssh")


def project_label(box: Sandbox) -> dict[str, str]:
    return {"label": f"com.docker.compose.project={box.settings.project}"}


def remove_project(engine: Engine, box: Sandbox) -> None:
    for container in engine.client.containers.list(all=True, filters=project_label(box)):
        container.remove(force=True, v=True)
    for network in engine.client.networks.list(filters=project_label(box)):
        network.remove()  # its bridge is a link on this host


def live_commit(engine: Engine, box: Sandbox) -> str:
    return engine.client.images.get(box.settings.live_image).labels["org.opencontainers.image.revision"]


def test_the_whole_cycle_over_ssh_reaches_only_the_engine_behind_sshd(
    sandbox: Sandbox, docker_client: docker.DockerClient, base_image: str
) -> None:
    """build, deploy, verify, status — every task through ssh; nothing of it on the default engine."""
    first = git(sandbox.repo, "rev-parse", "HEAD")
    with second_engine() as remote, sshd_to(str(remote.socket), os.environ["PATH"]) as ssh:
        copy_image(docker_client, remote.client, base_image)
        env = {"DOCKER_HOST": ssh.docker_host, "PATH": ssh.path, **FAST_TICKS}
        try:
            for task in (["build"], ["deploy"], ["verify", "--json"]):
                done = invoke(sandbox, *task, timeout=SSH_TIMEOUT, **env)
                assert done.returncode == 0, done.stdout + done.stderr
            report = json.loads(done.stdout)
            assert report["ok"] and {p["name"] for p in report["points"]} >= {"code layer", "configuration"}
            assert report["release"] == first
            assert live_commit(remote, sandbox) == first
            done = invoke(sandbox, "status", "--json", timeout=SSH_TIMEOUT, **env)
            assert done.returncode == 0, done.stdout + done.stderr
            now = json.loads(done.stdout)
            assert now["release"]["commit"] == first and now["disagreements"] == [], now
            running = remote.client.containers.list(filters=project_label(sandbox))
            assert sorted(c.labels["com.docker.compose.service"] for c in running) == ["bot", "worker"]
            assert docker_client.containers.list(all=True, filters=project_label(sandbox)) == []
            assert docker_client.images.list(name=sandbox.settings.image_repo) == []
        finally:
            remove_project(remote, sandbox)
