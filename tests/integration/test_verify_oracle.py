"""What verify reads in one batch (the code archive, its side container's look at /proc) against testinfra.

testinfra asks a file, a mount or the process table one exec at a time: too slow for
`invoke verify`, and exactly right as an independent oracle of what verify judged.
"""

from __future__ import annotations

import docker
import testinfra

from deploy.config import CODE_PATH, STATE_PATH
from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.verify import points, verify
from deploy.verify.codecompare import Observation
from testsupport.sandbox import Sandbox, quiet
from testsupport.waiting import wait_for

SAMPLED = ("__init__.py", "bot.py", "worker.py")  # a file per exec and property: a sample, not all of trading/


def test_verify_reads_what_testinfra_sees_inside_the_running_containers(
    sandbox: Sandbox, docker_client: docker.DockerClient, fast_ticks: None
) -> None:
    repo = Repository(sandbox.repo)
    release = build.build(sandbox.settings, docker_client, repo, say=quiet)
    deploying.deploy(sandbox.settings, docker_client, repo, say=quiet)
    assert (found := verify(sandbox.settings, docker_client, repo)).ok, found.summary()
    project = {"label": f"com.docker.compose.project={sandbox.settings.project}"}
    for container in docker_client.containers.list(filters=project):
        host = testinfra.get_host(f"docker://{container.id}")
        archive = points.code_archive(container)
        owners = {path: (uid, gid, mode) for path, uid, gid, mode in points.tar_owners(archive)}
        files = points.read_container("container", container, lambda archive=archive: archive)
        for name in SAMPLED:
            judged_by_testinfra(host, f"{CODE_PATH}/{name}", owners, files)
        asked = points.ask_inside(docker_client, container, release.image_id, sandbox.settings.project)
        python3 = [p for p in asked["processes"] if p["cmdline"][:1] == ["python3"] and "health" not in p["cmdline"]]
        service = {p["pid"] for p in python3 if p["uid"] == [10001] * 4}
        assert service and service <= {p.pid for p in host.process.filter(comm="python3", user="tradebot")}
        # the side container has gone again; an engine exec (the health check, every 5 s) is root for the moment
        # it starts (`runc:[2:INIT]`, seen once in CI), so the table is asked again until it shows no root process
        wait_for(lambda host=host: not host.process.filter(uid=0), timeout=10, what="no root process in the container")
        root = next(m for m in asked["mounts"] if m["at"] == "/")
        assert "ro" in root["options"].split(",") and "Read-only" in host.run("touch /.oracle").stderr
        assert host.mount_point(STATE_PATH).exists and not host.mount_point(CODE_PATH).exists


def judged_by_testinfra(
    host: testinfra.host.Host, path: str, owners: dict[str, tuple[int, int, int]], files: Observation
) -> None:
    found = host.file(path)
    assert (found.uid, found.gid, found.mode) == owners[path]
    assert found.sha256sum == files.files[path.rpartition("/")[2]]
