"""`docker compose` command lines and their environment, as data; `deploy.engine.runner` runs them.

Compose runs on the release commit's tree (`deploy.engine.tree`): `-f <tree>/docker-compose.yml
--project-directory <tree>`, so every file it reads (`include:`, `extends:`) is the commit's, the
same on every clone. Its environment is an allow-list (`env`): what finds the engine and Compose,
the runtime settings (`TRADEBOT_*`, recorded in the ledger) and the project; nothing else of the
invoking shell, in particular no `COMPOSE_*` (a shell's `COMPOSE_PROFILES` or `COMPOSE_FILE` would
change what runs). `PINNED` switches off what reads outside the tree: a `.env` file, remote
`include:`s (git and OCI are fetched by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from deploy.config import SERVICES, Settings, runtime

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
CONFIG_HASH_LABEL = "com.docker.compose.config-hash"
FILE = "docker-compose.yml"

# What reaches the engine and Compose itself (the CLI plugin is found through HOME or DOCKER_CONFIG).
PASSED = (
    "PATH",
    "HOME",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
    "SSH_AUTH_SOCK",
)
PINNED = {
    "COMPOSE_DISABLE_ENV_FILE": "true",
    "COMPOSE_EXPERIMENTAL_GIT_REMOTE": "false",
    "COMPOSE_EXPERIMENTAL_OCI_REMOTE": "false",
}


def base(prefix: Sequence[str], settings: Settings, tree: Path) -> list[str]:
    """Compose on the commit's tree `tree` (`deploy.engine.tree`), as project `settings.project`."""
    return [*prefix, "-f", str(tree / FILE), "--project-directory", str(tree), "-p", settings.project]


def up(
    prefix: Sequence[str],
    settings: Settings,
    tree: Path,
    services: Sequence[str] = SERVICES,
    stop_timeout: int | None = None,
) -> list[str]:
    """Recreate `services` together from the live image, in one call (never two bots on one state).

    `stop_timeout` replaces the running containers' stop grace period (compose `--timeout`).
    """
    grace = ["--timeout", str(stop_timeout)] if stop_timeout is not None else []
    recreate = ["up", "-d", "--force-recreate", "--no-build", "--pull", "never"]
    return [*base(prefix, settings, tree), *recreate, *grace, *services]


def standby(prefix: Sequence[str], settings: Settings, tree: Path, services: Sequence[str] = SERVICES) -> list[str]:
    """Start one more container of each of `services` from the live image, beside the running one.

    `--no-recreate` leaves the running containers as they are, `--no-deps` starts nothing else. Compose
    starts a *stopped* container of a service too: the handover never runs this while it keeps one.
    """
    scale = [arg for service in services for arg in ("--scale", f"{service}=2")]
    return [
        *base(prefix, settings, tree),
        "up",
        "-d",
        "--no-recreate",
        "--no-deps",
        "--no-build",
        "--pull",
        "never",
        *scale,
        *services,
    ]


def config(prefix: Sequence[str], settings: Settings, tree: Path, interpolate: bool = True) -> list[str]:
    """Print every service of the compose file, all profiles, as Compose resolves it, as JSON; fails when it does
    not parse.

    Without `interpolate`, variables stay `${…}` and `env_file` stays a key (the resolved view folds it in).
    """
    raw = [] if interpolate else ["--no-interpolate"]
    return [*base(prefix, settings, tree), "--profile", "*", "config", "--format", "json", *raw]


def variables(prefix: Sequence[str], settings: Settings, tree: Path) -> list[str]:
    """Print every variable the compose file (and what it includes or extends) interpolates, as JSON."""
    return [*base(prefix, settings, tree), "config", "--variables", "--format", "json"]


def remove(
    prefix: Sequence[str],
    settings: Settings,
    tree: Path,
    services: Sequence[str] = SERVICES,
    stop_timeout: int | None = None,
) -> list[str]:
    """Stop and remove the containers of `services` (the state volume stays).

    Each gets its stop grace period (`rm --stop`), or `stop_timeout` seconds (`down --timeout`: `rm` has none).
    """
    if stop_timeout is None:
        return [*base(prefix, settings, tree), "rm", "--stop", "--force", *services]
    return [*base(prefix, settings, tree), "down", "--timeout", str(stop_timeout), *services]


def config_hash(prefix: Sequence[str], settings: Settings, tree: Path, services: Sequence[str] = SERVICES) -> list[str]:
    """`<service> <hash>` lines: the hash Compose labels each container of that configuration with."""
    return [*base(prefix, settings, tree), "config", "--hash", ",".join(services)]


def env(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """Compose's whole environment: `PASSED` and the runtime settings of `environ`, the project, `PINNED`."""
    passed = {name: environ[name] for name in PASSED if name in environ}
    return {**passed, **runtime(environ), "TRADEBOT_PROJECT": settings.project, **PINNED}


def version(prefix: Sequence[str]) -> list[str]:
    """Prints Compose's version (`2.40.3`): the `com.docker.compose.version` label of what it makes."""
    return [*prefix, "version", "--short"]
