"""The one place that turns pipeline errors into output and exit codes.

Tasks wrap their body in `reported`: a `TradebotError` becomes one line on
stderr saying what is wrong, one saying what to do next, and the error's exit
code; anything else is a bug and keeps its traceback. Output is line-buffered,
so a CI log (stdout a pipe, not a terminal) shows each progress line when it is said.

A closed stdout (`tradebot releases | head -1`, a CI log collector that died) never stops a task
half-way: writing progress must not break a deploy between two steps. The task runs to its end with
its output discarded, then exits 13 saying how many lines were not shown (a task that failed
says its own error and keeps its code).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TextIO, TypeVar

from invoke.exceptions import Exit

from deploy.errors import OutputError, TradebotError

P = ParamSpec("P")
R = TypeVar("R")


def format_error(error: TradebotError) -> str:
    lines = [f"error: {error.message}"]
    if error.hint:
        lines.append(f"  next: {error.hint}")
    return "\n".join(lines)


class Guarded:
    """A stdout whose reader may be gone: a write to a closed pipe is counted (in lines), not raised."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.closed, self.lost = stream, False, 0

    def write(self, text: str) -> int:
        if not self.closed:
            try:
                return self.stream.write(text)
            except (BrokenPipeError, ValueError):  # ValueError: written after it was closed here
                self._close()
        self.lost += text.count("\n")
        return len(text)

    def flush(self) -> None:
        if not self.closed:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._close()

    def _close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError, ValueError, AttributeError):  # the interpreter's last flush finds nothing
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def reported(task_body: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(task_body)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):  # a real text stream, not a test's capture
                stream.reconfigure(line_buffering=True)
        stdout = sys.stdout
        guarded = sys.stdout = Guarded(stdout)  # type: ignore[assignment]
        error: TradebotError | None = None
        try:
            result = task_body(*args, **kwargs)
        except TradebotError as raised:
            error = raised
            print(format_error(error), file=sys.stderr)
        finally:
            sys.stdout = stdout
        code = error.exit_code if error else _lost(guarded)
        if code:
            raise Exit(code=code)
        return result

    return wrapper


def _lost(guarded: Guarded) -> int:
    """0, or OutputError's code once its line names what a closed stdout did not show."""
    if not guarded.closed:
        return 0
    lines = f"{guarded.lost} line{'s' if guarded.lost != 1 else ''}"
    closed = OutputError(
        f"stdout was closed before the task ended: {lines} of its output were not shown",
        "read the whole output (no `| head`), or `tradebot report` for what the task did",
    )
    print(format_error(closed), file=sys.stderr)
    return closed.exit_code
