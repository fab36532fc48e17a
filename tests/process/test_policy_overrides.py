"""Each way a compose file can break the security policy, and the exact check it trips (issue 18, attack 4 among them).

The real Compose resolves the repository's docker-compose.yml plus one override in the three views the
preflight reads (`config --profile '*'`, the same `--no-interpolate`, `config --variables`; no engine
needed); the preflight's judge must fail exactly the named settings of the named service, and nothing else.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deploy.config import Settings
from deploy.engine import compose
from deploy.engine.client import compose_argv
from deploy.policy import compose_file, rules

REPO = Path(__file__).resolve().parents[2]
SETTINGS = Settings(project="tradebot-policy", repo=REPO)
ALLOW_ALL = '{"defaultAction": "SCMP_ACT_ALLOW"}'

OVERRIDES = {
    "privileged: true": {"policy: privileged"},
    "pid: host": {"policy: pid"},
    "ipc: host": {"policy: ipc"},
    "network_mode: host": {"policy: network_mode"},
    "uts: host": {"policy: uts"},
    "volumes: ['/:/host']": {"policy: volumes"},
    "volumes: ['/var/run/docker.sock:/var/run/docker.sock']": {"policy: volumes"},
    "volumes: ['spare:/spare']": {"policy: volumes"},
    "volumes: ['/anonymous']": {"policy: volumes"},
    "cap_add: [SYS_ADMIN]": {"policy: cap_add"},
    "cap_add: [CAP_NET_RAW]": {"policy: cap_add"},
    "cap_drop: !override [NET_RAW]": {"policy: cap_drop"},
    "security_opt: !reset []": {"policy: security_opt"},
    "security_opt: ['no-new-privileges:false']": {"policy: security_opt"},  # appended: the engine applies the last
    "read_only: false": {"policy: read_only"},
    "devices: ['/dev/null:/dev/xnull']": {"policy: devices"},
    "user: root": {"policy: user"},
    "user: '0:10001'": {"policy: user"},
    "user: !reset null": {"policy: user"},
    "security_opt: ['seccomp:unconfined']": {"policy: seccomp"},
    "security_opt: ['apparmor=unconfined']": {"policy: apparmor"},
    "ports: ['8080:80']": {"policy: ports"},
    # issue 18, attack 4: each gap, refused at the preflight
    "security_opt: ['seccomp=./allow.json']": {"policy: seccomp"},  # a file Compose inlines as JSON
    f"security_opt: ['seccomp={ALLOW_ALL}']": {"policy: seccomp"},
    "security_opt: ['systempaths=unconfined']": {"policy: systempaths"},
    "security_opt: ['label=disable']": {"policy: label"},
    "security_opt: ['apparmor:docker-default']": {"policy: apparmor"},
    "cgroup: host": {"policy: cgroup"},
    "userns_mode: host": {"policy: userns_mode"},
    "network_mode: 'container:x'": {"policy: network_mode"},
    "network_mode: 'service:bot'": {"policy: network_mode"},
    "pid: 'container:x'": {"policy: pid"},
    "ipc: shareable": {"policy: ipc"},
    "user: '00'": {"policy: user"},
    "user: '+0'": {"policy: user"},
    "user: '000:10001'": {"policy: user"},
    "user: '10001:0'": {"policy: user"},
    "user: tradebot": {"policy: user"},
    "group_add: ['0']": {"policy: group_add"},
    "volumes_from: [bot]": {"policy: volumes_from"},
    "secrets: [s]": {"policy: secrets"},
    "configs: [c]": {"policy: configs"},
    "env_file: [{path: /nonexistent, required: false}]": {"policy: env_file"},
    "image: busybox": {"policy: image"},
    "entrypoint: [python3, -m, trading]": {"policy: entrypoint"},
    "command: [sh]": {"policy: command"},
    "working_dir: /var/lib/tradebot": {"policy: working_dir"},
    "environment: {PYTHONPATH: /var/lib/tradebot}": {"policy: environment"},
    "environment: {LD_PRELOAD: /var/lib/tradebot/x.so}": {"policy: environment"},
    "environment: {TRADEBOT_X: '${HOME}'}": {"policy: variables"},
    "tmpfs: !override ['/tmp:exec']": {"policy: tmpfs"},
    "tmpfs: ['/app']": {"policy: tmpfs"},
    "post_start: [{command: ['true']}]": {"policy: post_start"},
    "healthcheck: {disable: true}": {"policy: healthcheck"},
    "healthcheck: {test: [CMD, 'true']}": {"policy: healthcheck"},
    "scale: 2": {"policy: scale"},
    "sysctls: {net.core.somaxconn: 1024}": {"policy: sysctls"},
    "runtime: runc": {"policy: runtime"},
    "hostname: bot": {"policy: hostname"},
    "init: false": {"policy: init"},
    "labels: {io.tradebot.helper-of: tradebot}": {"policy: labels"},
    "cgroup_parent: elsewhere": {"policy: cgroup_parent"},
    "build: .": {"policy: build"},
    "networks: [default, other]": {"policy: networks"},
    "profiles: [debug]": {"policy: profiles"},
}
TOP_LEVEL = {  # what else an override needs beside its service setting
    "spare": "volumes:\n  spare: {}\n",
    "secrets:": "secrets:\n  s: {file: ./s.txt}\n",
    "configs:": "configs:\n  c: {file: ./c.txt}\n",
    "other]": "networks:\n  other: {}\n",
}
PROJECT_CHECKS = {"policy: variables"}  # the project's, not the service's


def views(tmp_path: Path, override: str) -> compose_file.Views:
    extra = tmp_path / "override.yml"
    extra.write_text(override)
    (tmp_path / "allow.json").write_text(ALLOW_ALL)
    files = ["-f", str(REPO / "docker-compose.yml"), "-f", str(extra), "--project-directory", str(tmp_path)]
    head = [*compose_argv(SETTINGS), *files, "-p", SETTINGS.project]
    every = [*head, "--profile", "*", "config", "--format", "json"]
    asked = (every, [*every, "--no-interpolate"], [*head, "config", "--variables", "--format", "json"])
    env = compose.env(SETTINGS, {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    done = [subprocess.run(argv, capture_output=True, text=True, env=env) for argv in asked]
    for ran in done:
        assert ran.returncode == 0, ran.stderr
    return compose_file.Views(*(json.loads(ran.stdout) for ran in done))


def failed(found: compose_file.Views) -> set[tuple[str, str]]:
    return {(c.target, c.name) for c in rules.violations(compose_file.judge(found, SETTINGS, rules.load()))}


def test_the_repositorys_compose_file_meets_the_policy(tmp_path: Path) -> None:
    assert failed(views(tmp_path, "services: {}\n")) == set()


@pytest.mark.parametrize("setting", OVERRIDES)
def test_one_override_trips_exactly_its_check(tmp_path: Path, setting: str) -> None:
    top = "".join(text for key, text in TOP_LEVEL.items() if key in setting)
    override = f"services:\n  worker:\n    {setting}\n{top}"
    expected = {("project" if name in PROJECT_CHECKS else "worker", name) for name in OVERRIDES[setting]}
    assert failed(views(tmp_path, override)) == expected


@pytest.mark.parametrize("options", ["{type: none, o: bind, device: /}", "{type: none, o: 'ro,rbind', device: /etc}"])
def test_the_state_volume_made_a_host_bind_by_its_driver_options_trips_volumes(tmp_path: Path, options: str) -> None:
    """Its name is the declared one, its mount a volume: only the driver options make it the host's directory."""
    override = f"volumes:\n  state:\n    driver: local\n    driver_opts: {options}\n"
    found = views(tmp_path, override)
    assert failed(found) == {("bot", "policy: volumes"), ("worker", "policy: volumes")}
    details = {c.detail for c in rules.violations(compose_file.judge(found, SETTINGS, rules.load()))}
    device = options.split("device: ")[1].rstrip("}")
    assert details == {f"volume {SETTINGS.state_volume} binding the host's {device} at /var/lib/tradebot"}


def test_a_service_brought_in_by_depends_on_is_judged_like_bot_and_worker(tmp_path: Path) -> None:
    evil = (
        "services:\n  bot:\n    depends_on: [evil]\n  evil:\n    image: tradebot-policy:live\n    user: '0'\n"
        "    cap_add: [SYS_ADMIN]\n    volumes: ['/etc:/host-etc', 'state:/s']\n"
    )
    assert failed(views(tmp_path, evil)) == {
        ("project", "policy: services"),
        *(
            ("evil", f"policy: {name}")
            for name in (
                "user",
                "cap_drop",
                "cap_add",
                "volumes",
                "read_only",
                "security_opt",
                "init",
                "command",
                "healthcheck",
            )
        ),
    }
