"""A call started now in a thread of its own, its result asked for later: what a command reads while it does
something else (the commit's compose file, verify's side of a release, the release record, the other
backups' markers, the renderer).

One way for every such call: `start(call, *args)` returns a function that waits for the call's result and
raises what the call raised. The thread ends with its one call; an answer never asked for is dropped. (A
block that must wait for its calls whatever happens in it, as a snapshot beside a step, uses a pool of its
own in a `with`.)
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def start(name: str, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Callable[[], T]:
    """`call(*args, **kwargs)` started in a thread named `name`; the returned function waits for its result."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    found = pool.submit(call, *args, **kwargs)
    pool.shutdown(wait=False)  # the thread ends with its one call
    return found.result
