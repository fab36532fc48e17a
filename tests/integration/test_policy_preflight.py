"""A commit whose compose file breaks the security policy is refused before anything stops; its plan says so."""

from __future__ import annotations

import pytest

from deploy.engine.git import Repository
from deploy.errors import PolicyViolation
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.records import ledger
from testsupport.sandbox import Sandbox, quiet

BOT = "  bot:\n    <<: *service\n"
HOSTS_KEYS = "    privileged: true\n    pid: host\n    network_mode: host\n    volumes:\n      - /:/host\n"


def containers(box: Sandbox) -> dict[str, tuple[str, str]]:
    label = {"label": f"com.docker.compose.project={box.settings.project}"}
    return {c.name: (c.id, c.attrs["State"]["StartedAt"]) for c in box.engine.containers.list(filters=label)}


def test_a_compose_file_with_the_hosts_keys_is_refused_and_the_live_release_runs_on(sandbox: Sandbox) -> None:
    repo = Repository(sandbox.repo)
    live = build.build(sandbox.settings, sandbox.engine, repo, say=quiet)
    deploying.deploy(sandbox.settings, sandbox.engine, repo, rev=live.commit, say=quiet)
    running = containers(sandbox)
    compose_file = (sandbox.repo / "docker-compose.yml").read_text()
    assert BOT in compose_file
    bad = sandbox.commit("with the host's keys", {"docker-compose.yml": compose_file.replace(BOT, BOT + HOSTS_KEYS)})
    build.build(sandbox.settings, sandbox.engine, repo, say=quiet)
    planned: list[str] = []
    deploying.plan(sandbox.settings, sandbox.engine, repo, rev=bad, say=planned.append)
    stop = next(line for line in "\n".join(planned).splitlines() if "breaks the security policy" in line)
    assert stop.endswith(
        "IT DOES — bot privileged (privileged: true); bot pid (pid: host); bot network_mode (network_mode: host); "
        "bot volumes (bind / at /host)"
    )
    assert containers(sandbox) == running  # the plan changed nothing

    with pytest.raises(PolicyViolation) as refused:
        deploying.deploy(sandbox.settings, sandbox.engine, repo, rev=bad, say=quiet)

    assert refused.value.data["violations"] == [
        "bot privileged (privileged: true)",
        "bot pid (pid: host)",
        "bot network_mode (network_mode: host)",
        "bot volumes (bind / at /host)",
    ]
    assert containers(sandbox) == running  # nothing stopped, nothing recreated
    assert sandbox.engine.images.get(sandbox.settings.live_image).id == live.image_id
    last = ledger.read(sandbox.settings, sandbox.engine)[-1]
    assert (last.commit, last.outcome) == (bad, ledger.REFUSED)
    assert not [
        v for v in sandbox.engine.volumes.list() if v.name.startswith(f"{sandbox.settings.state_volume}-backup")
    ]
    assert "breaks the security policy" in last.cause
