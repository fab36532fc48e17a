"""What `deploy.verify.drift` expects of a compose service is what the engine made of it, setting by setting."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import docker

from deploy.config import Settings
from deploy.engine import compose
from deploy.engine.client import compose_argv
from deploy.verify import drift

EVERY_SETTING = """
services:
  limited:
    image: {image}
    command: [sleep, "300"]
    restart: on-failure:3
    mem_limit: 256m
    memswap_limit: 512m
    mem_reservation: 64m
    cpus: 0.5
    cpu_shares: 512
    cpuset: "0"
    pids_limit: 100
    networks: [default, extra]
  deployed:
    image: {image}
    command: [sleep, "300"]
    cpu_quota: 50000
    cpu_period: 100000
    deploy:
      resources:
        limits: {{memory: 128M, pids: 50}}
        reservations: {{memory: 32M}}
  plain:
    image: {image}
    command: [sleep, "300"]
    restart: unless-stopped
networks:
  extra: {{}}
"""


def test_the_translation_of_every_drift_setting_is_what_the_engine_applies(
    tmp_path: Path, unique_name: str, base_image: str, docker_client: docker.DockerClient
) -> None:
    """What `deploy.verify.drift` expects of a service is what the engine made of it, setting by setting."""
    (tmp_path / "docker-compose.yml").write_text(EVERY_SETTING.format(image=base_image))
    settings = Settings(project=unique_name, repo=tmp_path)
    base = [*compose_argv(settings), "-f", str(tmp_path / "docker-compose.yml"), "-p", unique_name]
    env = compose.env(
        settings, {"PATH": "/usr/bin:/bin", **{k: v for k, v in os.environ.items() if k.startswith("DOCKER")}}
    )
    resolved = json.loads(
        subprocess.run([*base, "config", "--format", "json"], env=env, capture_output=True, check=True).stdout
    )
    try:
        up = subprocess.run([*base, "up", "-d", "--pull", "never"], env=env, capture_output=True, text=True)
        assert up.returncode == 0, up.stderr
        containers = docker_client.containers.list(filters={"label": f"{compose.PROJECT_LABEL}={unique_name}"})
        assert len(containers) == 3
        for container in containers:
            name = container.labels[compose.SERVICE_LABEL]
            found = drift.checks(name, resolved["services"][name], resolved["networks"], container.attrs)
            assert [c.failure() for c in found if not c.ok] == []
    finally:
        subprocess.run([*base, "down", "-v", "--timeout", "1"], env=env, capture_output=True)
