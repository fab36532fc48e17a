"""Each member is asked in a process of its own: `python -m deploy.fleet.member ACTION …` in the member's environment.

Why a process per member and not a thread: the pipeline reads its deployment from the process's
environment — `DOCKER_HOST` for the Docker SDK and Compose, `TRADEBOT_PROJECT`, the runtime settings
Compose interpolates and the ledger records — so a child with a member's environment is exactly that
deployment, as `invoke` run against it by hand; and a child stuck on a frozen engine is killed at its
timeout, which a thread cannot be.

A member's environment (`environ`): the operator's, without the shell's engine address and runtime
settings (a member runs with the fleet file's, never with whatever the shell exported), plus the
member's engine, project, the repository and the fleet's and the member's settings.

The child prints one JSON document on stdout (`deploy.fleet.member`); `ask` and `ask_all` read it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import deploy
from deploy import errors
from deploy.config import is_runtime
from deploy.engine.runner import Runner
from deploy.errors import CommandTimedOut, EngineUnreachable, TradebotError
from deploy.fleet.roster import Member

CONNECTION = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
# The directory holding the `deploy` package this process runs: the child runs the same code.
CODE_ROOT = str(Path(deploy.__file__).resolve().parents[1])


@dataclass(frozen=True)
class Answer:
    """What one member's child said: its document, its exit code, how long it took, or why it said nothing."""

    member: str
    document: Mapping[str, Any] = field(default_factory=dict)
    exit_code: int = 0
    seconds: float = 0.0
    unreachable: str = ""  # why the member's engine gave no answer ('' when it answered)

    @property
    def ok(self) -> bool:
        return not self.unreachable and self.exit_code == 0

    @property
    def error(self) -> str:
        return self.unreachable or str(self.document.get("error", ""))


def environ(member: Member, base: Mapping[str, str], repo: Path) -> dict[str, str]:
    """The environment `member`'s child runs in (see the module docstring; pure)."""
    kept = {name: value for name, value in base.items() if name not in CONNECTION and not is_runtime(name)}
    path = f"{CODE_ROOT}:{kept['PYTHONPATH']}" if kept.get("PYTHONPATH") else CODE_ROOT
    return {
        **kept,
        **member.settings,
        "DOCKER_HOST": member.engine,
        "TRADEBOT_PROJECT": member.project,
        "TRADEBOT_REPO": str(repo),
        "PYTHONPATH": path,
    }


def argv(action: str, *args: str) -> list[str]:
    """The child's command line; `-P`: the code comes from `CODE_ROOT`, never from the working directory."""
    return [sys.executable, "-P", "-m", "deploy.fleet.member", action, *args]


def answer_of(member: str, exit_code: int, stdout: str, seconds: float, stderr: str = "") -> Answer:
    """The child's answer from its exit code and stdout (pure): `EngineUnreachable` is the member unreachable.

    A child that printed no document failed before it could: its last output says why (a traceback's last line).
    """
    try:
        document = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
    except json.JSONDecodeError:
        document = {}
    if not isinstance(document, dict) or not document:
        said = stdout.strip() or stderr.strip()
        document = {"error": f"no document (exit {exit_code}): {said[-300:] or 'no output'}"}
    down = document.get("error_type") == EngineUnreachable.__name__
    return Answer(member, document, exit_code, seconds, str(document.get("error", "")) if down else "")


def ask(
    member: Member,
    env: Mapping[str, str],
    action: Sequence[str],
    timeout: float | None,
    runner: Runner,
    progress: bool = False,
) -> Answer:
    """Run `action` as `member`'s child; killed past `timeout` (the member named unreachable)."""
    started = time.monotonic()
    try:
        done = runner.run(argv(*action), env=env, check=False, timeout=timeout, stderr_through=progress)
    except CommandTimedOut:
        why = f"no answer within {timeout:g} s (its engine or host may be frozen or down)"
        return Answer(member.name, seconds=round(time.monotonic() - started, 2), exit_code=-9, unreachable=why)
    return answer_of(member.name, done.returncode, done.stdout, round(time.monotonic() - started, 2), done.stderr or "")


def ask_all(
    members: Sequence[Member],
    envs: Mapping[str, Mapping[str, str]],
    action: Sequence[str],
    timeouts: Mapping[str, float | None],
    runner: Runner,
) -> list[Answer]:
    """`ask` every member at once, each bounded by its own timeout; the answers in the members' order."""
    with ThreadPoolExecutor(max_workers=max(1, len(members))) as pool:
        futures = [pool.submit(ask, m, envs[m.name], action, timeouts[m.name], runner) for m in members]
        return [future.result() for future in futures]


def error_of(answer: Answer) -> TradebotError:
    """The error the child ended with, as the class it raised (so the tree gives the same exit code)."""
    named = getattr(errors, str(answer.document.get("error_type", "")), None)
    kind = named if isinstance(named, type) and issubclass(named, TradebotError) else TradebotError
    if kind is errors.CommandFailed:
        kind = TradebotError  # its constructor takes the command line; the message names it already
    return kind(answer.error, str(answer.document.get("next", "")), member=answer.member)
