"""Where a rebuild stands, from what is on the engine, and what a run does about it.

    journal volume exists (an earlier run was interrupted)    → RESUME: finish it (another legacy: refused)
    state volume rebuilt from this legacy, no journal         → DONE: nothing to do (with --force: AGAIN)
    state volume holds other state                            → refused without --force, else AGAIN
    otherwise                                                 → FRESH

AGAIN and FRESH differ only in that AGAIN backs up the state volume before replacing it.
Pure functions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy.errors import TargetHoldsState
from deploy.rebuild.labels import LEGACY_BACKUP, rebuilt_from
from deploy.steps import backups
from deploy.steps.backups import unfinished

FRESH = "fresh"
RESUME = "resume"
DONE = "done"
AGAIN = "again"

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Found:
    journal: Labels | None  # labels of the journal volume, None when there is none
    state: Labels | None  # labels of the state volume, None when there is none
    state_files: int  # entries in the state volume


def decide(found: Found, legacy: str, state_volume: str, force: bool) -> str:
    """FRESH, RESUME, DONE or AGAIN; raises RebuildUnfinished (another legacy's) or TargetHoldsState."""
    if found.journal is not None:
        other = found.journal.get(backups.REBUILD_OF, "")
        if other != legacy:
            raise unfinished(state_volume, other)
        return RESUME
    if found.state is None or found.state_files == 0:
        return FRESH
    if not force:
        if rebuilt_from(found.state) == legacy:
            return DONE
        raise TargetHoldsState(
            f"the state volume {state_volume} already holds state",
            "run again with --force to replace it (it is backed up first), or set TRADEBOT_PROJECT to another project",
        )
    return AGAIN


def resumed_backup(found: Found) -> str | None:
    """The backup volume name an interrupted run chose (it may not exist or be complete yet)."""
    return (found.journal or {}).get(LEGACY_BACKUP)
