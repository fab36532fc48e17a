"""Where a rebuild stands, from what is on the engine and in the ledger, and what a run does about it.

    journal volume exists (an earlier run was interrupted)    → RESUME: finish it (another legacy: refused)
    state volume rebuilt from this legacy, but the ledger has
      no succeeded rebuild of it (journal removed by hand)    → RESUME: finish it, never "already rebuilt"
    state volume rebuilt from this legacy, recorded finished  → DONE: nothing to do (with --force: AGAIN)
    state volume holds other state                            → refused without --force, else AGAIN
    otherwise                                                 → FRESH

A rebuild never removes a state volume a release ran on: when a run would finish (RESUME) over a
state volume holding anything it did not put there (`Found.foreign`: the files a bot writes, say),
it is refused without --force, and with --force that state is backed up and proven first (`replaces`).
AGAIN and FRESH differ only in that AGAIN backs up the state volume before replacing it.
Pure functions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy.errors import TargetHoldsState, first_of
from deploy.steps import backups
from deploy.steps.backups import unfinished
from deploy.steps.rebuilding import LEGACY_BACKUP, REBUILT_FROM

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
    finished: bool = True  # the ledger records the rebuild the state volume's labels name as succeeded
    foreign: tuple[str, ...] = ()  # paths in the state volume the rebuild would not put there


def decide(found: Found, legacy: str, state_volume: str, force: bool) -> str:
    """FRESH, RESUME, DONE or AGAIN; raises RebuildUnfinished (another legacy's) or TargetHoldsState."""
    ours = (found.state or {}).get(REBUILT_FROM) == legacy
    if found.journal is not None:
        other = found.journal.get(backups.REBUILD_OF, "")
        if other != legacy:
            raise unfinished(state_volume, other)
        return _resume(found, state_volume, force)
    if found.state is None or found.state_files == 0:
        return FRESH
    if ours and not found.finished:
        return _resume(found, state_volume, force)
    if not force:
        if ours:
            return DONE
        raise TargetHoldsState(
            f"the state volume {state_volume} already holds state",
            "run again with --force to replace it (it is backed up first), or set TRADEBOT_PROJECT to another project",
        )
    return AGAIN


def _resume(found: Found, state_volume: str, force: bool) -> str:
    if found.foreign and not force:
        raise TargetHoldsState(
            f"the state volume {state_volume} of an unfinished rebuild holds files the rebuild did not put there "
            f"({first_of(list(found.foreign), 3)}): a release ran on it, and finishing the rebuild would replace "
            "its state",
            "run again with --force to back that state up (proven) before the rebuild replaces it",
            foreign=list(found.foreign),
        )
    return RESUME


def replaces(found: Found, mode: str) -> bool:
    """Whether a run in `mode` backs up the state the state volume holds before it replaces it."""
    return mode == AGAIN or (mode == RESUME and bool(found.foreign))


def resumed_backup(found: Found) -> str | None:
    """The backup volume name an interrupted run chose (it may not exist or be complete yet)."""
    if found.journal is not None:
        return found.journal.get(LEGACY_BACKUP)
    return None if found.finished else (found.state or {}).get(LEGACY_BACKUP)
