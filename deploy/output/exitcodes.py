"""The one place that turns pipeline errors into output and exit codes.

Tasks wrap their body in `reported`: a `TradebotError` becomes one line on
stderr saying what is wrong, one saying what to do next, and the error's exit
code; anything else is a bug and keeps its traceback. Output is line-buffered,
so a CI log (stdout a pipe, not a terminal) shows each progress line when it is said.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from invoke.exceptions import Exit

from deploy.errors import TradebotError

P = ParamSpec("P")
R = TypeVar("R")


def format_error(error: TradebotError) -> str:
    lines = [f"error: {error.message}"]
    if error.hint:
        lines.append(f"  next: {error.hint}")
    return "\n".join(lines)


def reported(task_body: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(task_body)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):  # a real text stream, not a test's capture
                stream.reconfigure(line_buffering=True)
        try:
            return task_body(*args, **kwargs)
        except TradebotError as error:
            print(format_error(error), file=sys.stderr)
            raise Exit(code=error.exit_code) from None

    return wrapper
