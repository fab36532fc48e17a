"""Commands whose effect is in the state: ``state["applied_commands"]`` maps a command id to its result.

A handler that changes the state records its command in the same transaction as the change, so
the record and the effect are saved together or not at all.  A command run again (its worker died
after the save but before the bus heard of it) finds its record and reports that first outcome
instead of applying twice.  Only the newest ``KEEP`` records are kept: a command is run again
within a lease or two, never thousands of commands later.  Only workers write this section; a
holder merging a stale memory takes the disk's (``merge.DISK_SECTIONS``).  Pure functions only.
"""

from __future__ import annotations

from typing import Any

from trading.store.document import State

SECTION = "applied_commands"
KEEP = 1000
Result = dict[str, Any]


def recorded(state: State, command_id: int) -> Result | None:
    """The result this command had when its effect was saved; None if it never was."""
    found = state.get(SECTION, {}).get(str(command_id))
    return None if found is None else {**found, "replayed": True}


def record(state: State, command_id: int, result: Result) -> None:
    """Note the command's result beside its effect; forget the oldest beyond ``KEEP``."""
    records = state.setdefault(SECTION, {})
    records[str(command_id)] = result
    for old in sorted(records, key=int)[: max(len(records) - KEEP, 0)]:
        del records[old]
