"""A Swarm stack under the deployment's name, on a private engine made a one-node swarm: `invoke status` names it,
`invoke deploy` and `invoke restore` refuse to run beside it before anything stops.

The stack is made as `docker stack deploy` makes one: a service `<project>_bot` labelled
`com.docker.stack.namespace=<project>` (on the service and its containers) mounting `<project>_state`
read-write — what the engine shows of a stack of our compose file. Never on the default engine.
"""

from __future__ import annotations

import json

import docker
import docker.types
import pytest

from tests.integration.engines import copy_image, second_engine
from tests.integration.fleets import Seat, running
from tests.integration.sshd import free_port
from testsupport.cli import invoke
from testsupport.sandbox import Sandbox
from testsupport.waiting import wait_for

pytestmark = pytest.mark.usefixtures("fast_ticks")
STACK = "com.docker.stack.namespace"


def stack_of(engine: docker.DockerClient, project: str, image: str) -> None:
    """A one-node swarm and a service `<project>_bot` of the stack `<project>`, its task running."""
    engine.swarm.init(advertise_addr="127.0.0.1", listen_addr=f"127.0.0.1:{free_port()}")
    engine.services.create(
        image,
        ["sh", "-c", "sleep 3600"],
        name=f"{project}_bot",
        labels={STACK: project},
        container_labels={STACK: project},
        mounts=[docker.types.Mount("/var/lib/tradebot", f"{project}_state", type="volume")],
    )
    wait_for(lambda: engine.containers.list(filters={"label": f"{STACK}={project}"}), 120, "the stack's bot task")


def test_a_stack_of_the_same_name_is_named_by_status_and_refused_by_deploy_and_restore(
    sandbox: Sandbox, docker_client: docker.DockerClient, base_image: str
) -> None:
    project = sandbox.settings.project
    with second_engine() as engine:
        copy_image(docker_client, engine.client, base_image)
        env = {"DOCKER_HOST": engine.address}
        seat = Seat("m", project, engine.address, engine.client)
        try:
            done = invoke(sandbox, "build", "deploy", timeout=600, **env)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            before = running(seat)
            stack_of(engine.client, project, base_image)
            done = invoke(sandbox, "status", "--json", **env)
            assert done.returncode == 0, done.stderr
            said = json.loads(done.stdout)["disagreements"]
            assert any(f"of the Swarm stack {project}: no part of this deployment" in line for line in said), said
            assert f"service {project}_bot of the Swarm stack {project}: no part of this deployment" in " ".join(said)
            for task in (("deploy",), ("restore",)):
                done = invoke(sandbox, *task, **env)
                assert done.returncode == 10, done.stdout + done.stderr
                assert f"a Swarm stack named {project} writes {project}_state on this engine" in done.stderr
                assert f"docker stack rm {project}" in done.stderr
            assert running(seat) == before  # nothing was stopped or recreated
        finally:
            engine.client.swarm.leave(force=True)
            Sandbox(sandbox.repo, sandbox.settings, engine.client).remove()
