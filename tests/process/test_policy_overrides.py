"""Each way a compose file can break the security policy, and the exact check it trips.

The real Compose resolves the repository's docker-compose.yml plus one override
(`config --format json`, no engine needed); the preflight's judge must fail exactly
the named setting of the named service, and nothing else.
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
}


def resolved(tmp_path: Path, override: str) -> dict:
    extra = tmp_path / "override.yml"
    extra.write_text(override)
    files = ["-f", str(REPO / "docker-compose.yml"), "-f", str(extra)]
    argv = [*compose_argv(SETTINGS), *files, "-p", SETTINGS.project, "config", "--format", "json"]
    done = subprocess.run(argv, capture_output=True, text=True, env=compose.env(SETTINGS, {"PATH": "/usr/bin:/bin"}))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def failed(config: dict) -> set[tuple[str, str]]:
    return {(c.target, c.name) for c in rules.violations(compose_file.judge(config, SETTINGS, rules.load()))}


def test_the_repositorys_compose_file_meets_the_policy(tmp_path: Path) -> None:
    assert failed(resolved(tmp_path, "services: {}\n")) == set()


@pytest.mark.parametrize("setting", OVERRIDES)
def test_one_override_trips_exactly_its_check(tmp_path: Path, setting: str) -> None:
    volumes = "volumes:\n  spare: {}\n" if "spare" in setting else ""
    override = f"services:\n  worker:\n    {setting}\n{volumes}"
    assert failed(resolved(tmp_path, override)) == {("worker", name) for name in OVERRIDES[setting]}


@pytest.mark.parametrize("options", ["{type: none, o: bind, device: /}", "{type: none, o: 'ro,rbind', device: /etc}"])
def test_the_state_volume_made_a_host_bind_by_its_driver_options_trips_volumes(tmp_path: Path, options: str) -> None:
    """Its name is the declared one, its mount a volume: only the driver options make it the host's directory."""
    override = f"volumes:\n  state:\n    driver: local\n    driver_opts: {options}\n"
    config = resolved(tmp_path, override)
    assert failed(config) == {("bot", "policy: volumes"), ("worker", "policy: volumes")}
    details = {c.detail for c in rules.violations(compose_file.judge(config, SETTINGS, rules.load()))}
    device = options.split("device: ")[1].rstrip("}")
    assert details == {f"volume {SETTINGS.state_volume} binding the host's {device} at /var/lib/tradebot"}
