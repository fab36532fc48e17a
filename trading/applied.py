"""Commands whose effect is in the state: ``state["applied_commands"]`` maps a command id to its result.

A handler that changes the state records its command in the same transaction as the change, so
the record and the effect are saved together or not at all.  A command run again (its worker died
after the save but before the bus heard of it) finds its record and reports that first outcome
instead of applying twice.  A record lives as long as its command can run again: while the bus
holds the command without an outcome; each handler's transaction forgets the others (``keep``).
Only workers write this section; a holder merging a stale memory takes the disk's
(``merge.DISK_SECTIONS``).  Pure functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from trading.store.document import State

SECTION = "applied_commands"
Result = dict[str, Any]


def recorded(state: State, command_id: int) -> Result | None:
    """The result this command had when its effect was saved; None if it never was."""
    found = state.get(SECTION, {}).get(str(command_id))
    return None if found is None else {**found, "replayed": True}


def record(state: State, command_id: int, result: Result, unfinished: Callable[[Collection[int]], set[int]]) -> None:
    """Note the command's result beside its effect; forget the records of commands that cannot run again."""
    records = state.setdefault(SECTION, {})
    records[str(command_id)] = result
    live = unfinished([int(cid) for cid in records])
    for cid in [cid for cid in records if int(cid) not in live]:
        del records[cid]
