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


EVIL = (
    "  evil:\n    image: ${TRADEBOT_PROJECT:-tradebot}:live\n    user: '0'\n    cap_add: [SYS_ADMIN]\n"
    "    volumes:\n      - /etc:/host-etc\n      - state:/s\n"
)
EVIL_VIOLATIONS = {
    "project services (evil is not a declared service)",
    "evil user (runs as 0 (0:?))",
    "evil cap_drop (drops nothing, not ALL)",
    "evil cap_add (adds SYS_ADMIN)",
    "evil volumes (bind /etc at /host-etc)",
    "evil read_only (root filesystem writable)",
    "evil security_opt (no-new-privileges is not set)",
    "evil init (init is not true)",
    "evil command (not a declared service)",
    "evil healthcheck (not a declared service)",
}


def backups_of(box: Sandbox) -> list[str]:
    return [v.name for v in box.engine.volumes.list() if v.name.startswith(f"{box.settings.state_volume}-backup")]


def with_evil(compose_file: str, how: str) -> dict[str, str]:
    """The repository's compose file with the `evil` service brought in `how`."""
    services = "services:\n"
    if how == "depends_on":
        text = compose_file.replace(BOT, BOT + "    depends_on: [evil]\n").replace(services, services + EVIL, 1)
        return {"docker-compose.yml": text}
    if how == "profiles":
        profiled = EVIL.replace("    user:", "    profiles: [debug]\n    user:", 1)
        return {"docker-compose.yml": compose_file.replace(services, services + profiled, 1)}
    state = "volumes:\n  shared:\n    name: ${TRADEBOT_PROJECT:-tradebot}_state\n    external: true\n"
    included = services + EVIL.replace("state:/s", "shared:/s") + state  # `state` is the including file's
    return {"docker-compose.yml": "include: [evil.yml]\n" + compose_file, "evil.yml": included}


@pytest.mark.parametrize("how", ["depends_on", "include", "profiles"])
def test_a_service_beside_bot_and_worker_is_refused_before_anything_stops(sandbox: Sandbox, how: str) -> None:
    """Issue 18, attack 3: a root service with the host's /etc and the state, brought in three ways."""
    repo = Repository(sandbox.repo)
    live = build.build(sandbox.settings, sandbox.engine, repo, say=quiet)
    deploying.deploy(sandbox.settings, sandbox.engine, repo, rev=live.commit, say=quiet)
    deploying.deploy(sandbox.settings, sandbox.engine, repo, rev=live.commit, say=quiet)  # a state to back up
    running, kept = containers(sandbox), backups_of(sandbox)
    bad = sandbox.commit(f"a root service by {how}", with_evil((sandbox.repo / "docker-compose.yml").read_text(), how))
    build.build(sandbox.settings, sandbox.engine, repo, say=quiet)

    with pytest.raises(PolicyViolation) as refused:
        deploying.deploy(sandbox.settings, sandbox.engine, repo, rev=bad, say=quiet)

    expected = EVIL_VIOLATIONS | ({"evil profiles (profiles is not allowed)"} if how == "profiles" else set())
    assert set(refused.value.data["violations"]) == expected
    assert refused.value.exit_code == 10
    assert containers(sandbox) == running  # nothing stopped, nothing started: no evil container either
    assert backups_of(sandbox) == kept
    last = ledger.read(sandbox.settings, sandbox.engine)[-1]
    assert (last.commit, last.outcome) == (bad, ledger.REFUSED)


GAPS = (
    "    security_opt:\n      - no-new-privileges:true\n      - seccomp=./allow.json\n"
    "      - systempaths=unconfined\n      - label=disable\n"
    "    cgroup: host\n    userns_mode: host\n    user: '+0'\n    volumes_from: [bot]\n    env_file:\n"
    "      - {path: ./settings.env, required: false}\n    image: busybox\n    pid: 'container:x'\n"
)
GAP_VIOLATIONS = [
    "worker pid (pid: container:x)",
    "worker seccomp (seccomp=./allow.json)",
    "worker label (label=disable)",
    "worker systempaths (systempaths=unconfined)",
    "worker user (runs as +0 (0:?))",
    "worker image (runs busybox, not {project}:live)",
    "worker cgroup (cgroup is not allowed)",
    "worker env_file (env_file is not allowed)",
    "worker userns_mode (userns_mode is not allowed)",
    "worker volumes_from (volumes_from is not allowed)",
]


def test_every_gap_of_issue_18_is_refused_with_exit_10_before_anything_stops(sandbox: Sandbox) -> None:
    """Issue 18, attack 4: each deployed and verified before; some were caught only after the bot stopped (exit 7)."""
    repo = Repository(sandbox.repo)
    live = build.build(sandbox.settings, sandbox.engine, repo, say=quiet)
    deploying.deploy(sandbox.settings, sandbox.engine, repo, rev=live.commit, say=quiet)
    running = containers(sandbox)
    compose_file = (sandbox.repo / "docker-compose.yml").read_text()
    worker = "  worker:\n    <<: *service\n"
    assert worker in compose_file
    gaps = {
        "docker-compose.yml": compose_file.replace(worker, worker + GAPS),
        "allow.json": '{"defaultAction": "SCMP_ACT_ALLOW"}',
    }
    bad = sandbox.commit("every gap", gaps)
    build.build(sandbox.settings, sandbox.engine, repo, say=quiet)

    with pytest.raises(PolicyViolation) as refused:
        deploying.deploy(sandbox.settings, sandbox.engine, repo, rev=bad, say=quiet)

    assert refused.value.exit_code == 10
    expected = [line.format(project=sandbox.settings.project) for line in GAP_VIOLATIONS]
    assert sorted(refused.value.data["violations"]) == sorted(expected)
    assert containers(sandbox) == running
