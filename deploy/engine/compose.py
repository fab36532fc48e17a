"""`docker compose` command lines and their environment, as data; `deploy.engine.runner` runs them.

The compose file is always the release commit's `docker-compose.yml`, given on
stdin (`-f -`), so what runs is described by the same commit the image came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from deploy.config import SERVICES, Settings

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
CONFIG_HASH_LABEL = "com.docker.compose.config-hash"


def base(prefix: Sequence[str], settings: Settings) -> list[str]:
    return [*prefix, "-f", "-", "-p", settings.project, "--project-directory", str(settings.repo)]


def up(
    prefix: Sequence[str], settings: Settings, services: Sequence[str] = SERVICES, stop_timeout: int | None = None
) -> list[str]:
    """Recreate `services` together from the live image, in one call (never two bots on one state).

    `stop_timeout` replaces the running containers' stop grace period (compose `--timeout`).
    """
    grace = ["--timeout", str(stop_timeout)] if stop_timeout is not None else []
    return [*base(prefix, settings), "up", "-d", "--force-recreate", "--no-build", "--pull", "never", *grace, *services]


def standby(prefix: Sequence[str], settings: Settings, services: Sequence[str] = SERVICES) -> list[str]:
    """Start one more container of each of `services` from the live image, beside the running one.

    `--no-recreate` leaves the running containers as they are, `--no-deps` starts nothing else. Compose
    starts a *stopped* container of a service too: the handover never runs this while it keeps one.
    """
    scale = [arg for service in services for arg in ("--scale", f"{service}=2")]
    return [
        *base(prefix, settings),
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


def config(prefix: Sequence[str], settings: Settings) -> list[str]:
    """Print the compose file as Compose resolves it (variables interpolated), as JSON; fails when it does not parse."""
    return [*base(prefix, settings), "config", "--format", "json"]


def remove(
    prefix: Sequence[str], settings: Settings, services: Sequence[str] = SERVICES, stop_timeout: int | None = None
) -> list[str]:
    """Stop and remove the containers of `services` (the state volume stays).

    Each gets its stop grace period (`rm --stop`), or `stop_timeout` seconds (`down --timeout`: `rm` has none).
    """
    if stop_timeout is None:
        return [*base(prefix, settings), "rm", "--stop", "--force", *services]
    return [*base(prefix, settings), "down", "--timeout", str(stop_timeout), *services]


def config_hash(prefix: Sequence[str], settings: Settings, services: Sequence[str] = SERVICES) -> list[str]:
    """`<service> <hash>` lines: the hash Compose labels each container of that configuration with."""
    return [*base(prefix, settings), "config", "--hash", ",".join(services)]


def env(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The invoking environment (TRADEBOT_TICK_SECONDS etc. pass through) with the project set."""
    return {**environ, "TRADEBOT_PROJECT": settings.project}


def version(prefix: Sequence[str]) -> list[str]:
    """Prints Compose's version (`2.40.3`): the `com.docker.compose.version` label of what it makes."""
    return [*prefix, "version", "--short"]
