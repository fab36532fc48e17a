"""The one place that runs external commands (docker compose, git helpers, debootstrap).

Builders elsewhere return argv lists; a `Runner` executes them. A `--plan`
never reaches it: it names the steps (and their argv) instead of walking them.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy.errors import CommandFailed, CommandTimedOut


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
        log: Path | None = None,
        stderr_through: bool = False,
        timeout: float | None = None,
    ) -> Result:
        """Run argv; `log` appends its output (both streams) to that file instead of capturing it, `stderr_through`
        passes its stderr through live (a child's progress) while its stdout is read; past `timeout` seconds it is
        killed (CommandTimedOut)."""
        with open(log, "a") if log else contextlib.nullcontext() as out:
            try:
                proc = subprocess.run(
                    list(argv),
                    env=dict(env) if env is not None else None,
                    input=input,
                    text=True,
                    stdout=out or subprocess.PIPE,
                    stderr=subprocess.STDOUT if out else None if stderr_through else subprocess.PIPE,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired as exc:
                raise CommandTimedOut(
                    f"`{' '.join(list(argv)[:4])} …` did not finish within {timeout:g} s and was killed",
                    argv=list(argv),
                    seconds=timeout,
                ) from exc
        result = Result(proc.returncode, proc.stdout or "", proc.stderr or "")
        if check and proc.returncode != 0:
            raise CommandFailed(argv, proc.returncode, result.stderr)
        return result
