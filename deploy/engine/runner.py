"""The one place that runs external commands (docker compose, git helpers, debootstrap).

Builders elsewhere return argv lists; a `Runner` executes them. A `--plan`
never reaches it: it names the steps (and their argv) instead of walking them.
"""

from __future__ import annotations

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
