"""The one place that runs external commands (docker compose, git helpers, debootstrap).

Builders elsewhere return argv lists; a `Runner` executes them, a `PlanRunner`
prints them instead, which is what `--plan` shows.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from deploy.errors import CommandFailed


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


class Runner:
    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
        stream: bool = False,
    ) -> Result:
        """Run argv; `stream` passes its output through live (long steps show progress)."""
        proc = subprocess.run(
            list(argv),
            env=dict(env) if env is not None else None,
            input=input,
            text=True,
            stdout=None if stream else subprocess.PIPE,
            stderr=None if stream else subprocess.PIPE,
        )
        result = Result(proc.returncode, proc.stdout or "", proc.stderr or "")
        if check and proc.returncode != 0:
            raise CommandFailed(argv, proc.returncode, result.stderr)
        return result


class PlanRunner(Runner):
    """Prints each command instead of running it."""

    def run(self, argv: Sequence[str], **_: object) -> Result:
        print("would run:", shlex.join(argv))
        return Result(0, "", "")
