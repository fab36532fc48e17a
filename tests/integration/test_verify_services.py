"""Verify judges every container of the project and the policy's allow-lists on the engine (issue 18, attacks 3, 4).

One deployment per module; each test changes it by hand as an engine user would (Compose with an override
file, bypassing the preflight), runs verify and names the exact checks it must fail; the autouse `restored`
fixture puts the release back and proves it verifies again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import docker
import docker.errors
import pytest

from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.steps import roles, startup, status
from deploy.steps.images import ReleaseImage
from deploy.verify import VerifyReport, verify
from tests.integration import verifying
from testsupport.sandbox import Sandbox, quiet

ALLOW_ALL = {"defaultAction": "SCMP_ACT_ALLOW"}


@dataclass
class Deployed:
    box: Sandbox
    repo: Repository
    live: ReleaseImage


@pytest.fixture(scope="module")
def deployed(module_sandbox: Sandbox, docker_client: docker.DockerClient) -> Deployed:
    box, repo = module_sandbox, Repository(module_sandbox.repo)
    live = build.build(box.settings, docker_client, repo, say=quiet)
    deploying.deploy(box.settings, docker_client, repo, rev=live.commit, say=quiet)
    return Deployed(box, repo, live)


def compose_run(d: Deployed, *args: str, override: str | None = None) -> None:
    """`docker compose` as an engine user would, an override's seccomp file beside the compose file."""
    if override is not None:
        (d.box.repo / "allow.json").write_text(json.dumps(ALLOW_ALL))  # relative paths: the project directory's
    verifying.compose_run(d, *args, override=override)


def run_verify(d: Deployed) -> VerifyReport:
    return verify(d.box.settings, d.box.engine, d.repo)


def failed(report: VerifyReport) -> set[tuple[str, str]]:
    return {(p.name, "differs") for p in report.points if not p.ok} | {
        (c.target, c.name) for c in report.checks if not c.ok
    }


@pytest.fixture(autouse=True)
def restored(deployed: Deployed) -> Iterator[None]:
    yield
    if run_verify(deployed).ok:
        return
    # bot and worker removed by force first: a worker made to share the bot's PID namespace dies with the bot, and
    # Compose's own stop of it in a recreate then fails ('is not running'; CI, the `pid: service:bot` case)
    for found in roles.of_project(deployed.box.settings, deployed.box.engine).values():
        for container in found:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
    compose_run(deployed, "up", "-d", "--remove-orphans", "bot", "worker")
    startup.wait_release(deployed.box.settings, deployed.box.engine, deployed.live.image_id, ran_before=True)
    assert run_verify(deployed).ok


def test_a_service_started_beside_bot_and_worker_is_judged_and_named(deployed: Deployed) -> None:
    """Attack 3 after the deploy: a root service with the host's /etc and the state, started by hand."""
    override = (
        "services:\n  evil:\n    image: ${TRADEBOT_PROJECT}:live\n    user: '0'\n    cap_add: [SYS_ADMIN]\n"
        "    entrypoint: [sleep, '600']\n    volumes:\n      - /etc:/host-etc\n      - state:/s\n"
    )
    compose_run(deployed, "up", "-d", "--no-deps", "evil", override=override)

    report = run_verify(deployed)

    assert failed(report) == {
        ("project", "policy: services"),
        ("state volume", "one writer"),
        *(
            ("evil", f"policy: {name}")
            for name in (
                "user",
                "cap_drop",
                "cap_add",
                "volumes",
                "security_opt",
                "read_only",
                "entrypoint",
                "command",
                "healthcheck",
                "init",
            )
        ),
    }
    evil = f"{deployed.box.settings.project}-evil-1"
    services = next(c for c in report.checks if c.name == "policy: services")
    assert services.detail == "evil is not a declared service"
    found = status.status(deployed.box.settings, deployed.box.engine)
    assert f"{evil} is of service evil, which the policy does not declare" in found.disagreements
    assert [line for line in found.disagreements if "mounts" in line] == [
        f"{evil} (image {deployed.live.image_id[7:19]}, running) mounts {deployed.box.settings.state_volume}"
    ]


def test_a_worker_with_an_allow_all_seccomp_profile_unmasked_paths_and_the_hosts_user_namespace_is_named(
    deployed: Deployed,
) -> None:
    """Attack 4 after the deploy: each passed verify before."""
    override = (
        "services:\n  worker:\n    security_opt:\n      - seccomp=./allow.json\n      - systempaths=unconfined\n"
        "    userns_mode: host\n"  # the options are added to the release's no-new-privileges:true
    )
    compose_run(deployed, "up", "-d", "--no-deps", "worker", override=override)
    startup.wait_release(deployed.box.settings, deployed.box.engine, deployed.live.image_id, ran_before=True)
    # running: its heartbeat reports its code, so only the settings can differ

    report = run_verify(deployed)

    assert failed(report) == {
        ("configuration", "differs"),
        ("worker", "policy: seccomp"),
        ("worker", "policy: systempaths"),
        ("worker", "policy: userns_mode"),
    }
    seccomp = next(c for c in report.checks if (c.target, c.name) == ("worker", "policy: seccomp"))
    assert "SCMP_ACT_ALLOW" in seccomp.detail  # Compose inlined the file: the profile itself is named


@pytest.mark.parametrize(
    ("setting", "check"),
    [
        ("user: '+0'", "policy: user"),
        ("security_opt: ['label=disable']", "policy: label"),
        ("pid: 'service:bot'", "policy: pid"),
        ("sysctls: {net.ipv4.ip_unprivileged_port_start: 0}", "policy: sysctls"),
        ("cgroup: host", "policy: cgroup"),
    ],
)
def test_each_gap_made_by_hand_is_named_by_its_check(deployed: Deployed, setting: str, check: str) -> None:
    if "cgroup" in setting and str(deployed.box.engine.info().get("CgroupVersion")) == "1":
        pytest.skip("on cgroup v1 the host's cgroup namespace is the engine's default: verify cannot tell it was set")
    compose_run(deployed, "up", "-d", "--no-deps", "worker", override=f"services:\n  worker:\n    {setting}\n")
    report = run_verify(deployed)
    assert ("worker", check) in failed(report)
    assert {name for target, name in failed(report) if target == "worker" and name.startswith("policy: ")} == {check}
