"""What every operator task reads from its invocation before it does anything: the settings, and what it refuses.

Rules:
- invoke's core flags that change how `c.run` runs shell commands (`--dry`, `--echo`, `--warn-only`,
  `--pty`, `--hide`, `--command-timeout`, `--prompt-for-sudo-password`) are refused: the operator's
  tasks run no shell command through invoke, so the flag would change nothing while the task ran for
  real (`invoke --dry deploy` deployed). `--plan` is the way to see what a task would do.
- The repository is `tradebot --repo PATH` when given, else `TRADEBOT_REPO`, else the current directory.
- Every `TRADEBOT_*` variable of the environment must be a declared setting (`deploy.config.SETTINGS`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from invoke import Context

from deploy import config
from deploy.config import Settings
from deploy.errors import FlagRefused

if TYPE_CHECKING:
    import docker

PLAN_HINT = "to see what a task would do without doing it, use --plan (deploy, rollback, restore, volume-rebuild)"

# (section, key) of invoke's configuration -> the flag that sets it, and what invoke means by it
SHELL_FLAGS = {
    ("run", "dry"): ("--dry", "echo commands instead of running them"),
    ("run", "echo"): ("--echo", "echo commands before running them"),
    ("run", "warn"): ("--warn-only", "warn instead of failing when a command fails"),
    ("run", "pty"): ("--pty", "run commands in a pseudo-terminal"),
    ("run", "hide"): ("--hide", "hide the output of commands"),
    ("timeouts", "command"): ("--command-timeout", "a timeout for each command"),
    ("sudo", "password"): ("--prompt-for-sudo-password", "a sudo password for commands"),
}


def refused_flags(values: Mapping[tuple[str, str], Any]) -> list[str]:
    """The flags of `SHELL_FLAGS` whose configuration value is set (pure)."""
    return [SHELL_FLAGS[key][0] for key in SHELL_FLAGS if values.get(key)]


def refuse_shell_flags(c: Context) -> None:
    """Raise FlagRefused when the invocation set one of invoke's flags for shell commands."""
    values = {(section, key): c.config.get(section, {}).get(key) for section, key in SHELL_FLAGS}
    found = refused_flags(values)
    if found:
        meaning = dict(SHELL_FLAGS.values())[found[0]]
        raise FlagRefused(
            f"{found[0]} (invoke's: {meaning}) cannot be honoured: this task runs no shell command, "
            "it would run for real",
            f"drop {', '.join(found)}; {PLAN_HINT}",
            flags=found,
        )


def environ(c: Context, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the task runs with: `base` (os.environ), with `--repo` as TRADEBOT_REPO when given."""
    found = dict(os.environ if base is None else base)
    repo = c.config.get("tradebot", {}).get("repo")
    if repo:
        found["TRADEBOT_REPO"] = str(repo)
    return found


def settings(c: Context) -> Settings:
    """The settings of this invocation, after refusing invoke's shell flags and undeclared `TRADEBOT_*` variables."""
    refuse_shell_flags(c)
    found = environ(c)
    config.refuse_unknown(found)
    return Settings.from_env(found)


def connect(settings: Settings, plan: bool = False) -> docker.DockerClient:
    """The engine, once the helper containers a killed invocation of this deployment left are removed.

    Every command does it first (`deploy.engine.helpers.sweep`), except a plan: it changes nothing.
    """
    from deploy.engine import client, helpers

    engine = client.connect()
    if not plan:
        helpers.sweep(settings, engine)
    return engine
