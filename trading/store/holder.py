"""``StateHolder``: state kept in memory across a tick, saved without losing others' updates.

The holder remembers the generation it loaded.  ``refresh`` adopts what another process saved
since (a generation jump); ``save`` re-checks the generation under the store's lock and, when the
file changed, merges by section ownership (``trading.store.merge``) before writing — or drops the save
when ``allow_abort`` is set.  Counters and ``[STATE-COHERENCE]`` log lines name the save's source.

Memory, base and generation change together, only after a merge and its write both succeeded: a
merge that fails raises ``MergeError`` (ERROR log) and writes nothing, so the disk's changes are
never folded in twice.  ``state`` stays one object for the holder's life (a merge is copied into
it), so a caller keeping a reference across a save keeps seeing memory.  After a save the base is
the very object the store wrote and keeps as its cache (read-only here; memory is a copy).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, dataclass
from typing import Any

from trading.errors import MergeError
from trading.store.document import State, utcnow
from trading.store.merge import merge_states
from trading.store.persistence import StateStore

log = logging.getLogger("trading.coherence")


@dataclass
class Coherence:
    generation_jump_count: int = 0
    save_conflict_count: int = 0
    save_retry_count: int = 0
    save_merged_count: int = 0
    merge_failed_count: int = 0
    last_conflict_at: str | None = None
    last_external_generation: int | None = None
    last_merge_source: str | None = None
    last_merge_summary: dict[str, Any] | None = None


class StateHolder:
    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.coherence = Coherence()
        doc = store.load()
        self._adopt(doc.state, doc.generation)

    def _adopt(self, disk: State, generation: int) -> None:
        self.base = disk
        self.state = copy.deepcopy(disk)
        self.generation = generation

    def counters(self) -> dict[str, Any]:
        return {**asdict(self.coherence), **asdict(self.store.counters)}

    def refresh(self, source: str = "tick") -> bool:
        """Fold in what another process saved since our load; True when the generation jumped."""
        doc = self.store.load()
        if doc.generation == self.generation:
            return False
        self.coherence.generation_jump_count += 1
        merged, summary = self._merge_or_raise(doc.state, source)
        log.info(
            "[STATE-COHERENCE] generation jump %d -> %d, source=%s summary=%s",
            self.generation,
            doc.generation,
            source,
            summary,
        )
        self.base, self.generation = doc.state, doc.generation
        self._take(merged)
        return True

    def save(self, source: str = "unknown", *, allow_abort: bool = False) -> bool:
        """Save the in-memory state; False when a conflicting save was dropped (``allow_abort``)."""
        with self.store.update() as pending:
            if pending.generation != self.generation:
                self._conflict(pending.generation, source, allow_abort)
                if allow_abort:
                    pending.abort()
                    return False
                pending.state = self._merge(pending.state, source)
            else:
                pending.state = copy.deepcopy(self.state)
        # the store keeps the object it wrote as its cache; it is the (read-only) base, memory stays apart
        merged = pending.state if pending.generation != self.generation else None
        self.base, self.generation = pending.state, self.store.last_generation
        if merged is not None:
            self._take(merged)
        elif self.base.get("trade_totals") != self.state.get("trade_totals"):  # the store archived trades
            for section in ("closed_trades", "trade_totals"):
                self.state[section] = copy.deepcopy(self.base[section])
        return True

    def restore(self, state: State) -> None:
        """Make memory ``state`` again: a change whose save failed is taken back."""
        self._take(state)

    def _take(self, state: State) -> None:
        """Make memory equal to ``state`` in place: whoever holds ``self.state`` keeps seeing memory."""
        fresh = copy.deepcopy(state)
        self.state.clear()
        self.state.update(fresh)

    def _conflict(self, disk_generation: int, source: str, allow_abort: bool) -> None:
        c = self.coherence
        c.save_conflict_count += 1
        c.last_conflict_at, c.last_external_generation = utcnow(), disk_generation
        if allow_abort:
            c.save_retry_count += 1
            log.warning(
                "[STATE-COHERENCE] save aborted, source=%s - external generation jumped (old=%d, new=%d)",
                source,
                self.generation,
                disk_generation,
            )
        else:
            log.warning(
                "[STATE-COHERENCE] pre-save generation conflict, source=%s - merging disk into memory (old=%d, new=%d)",
                source,
                self.generation,
                disk_generation,
            )

    def _merge_or_raise(self, disk: State, source: str) -> tuple[State, dict[str, Any]]:
        try:
            return merge_states(self.base, self.state, disk)
        except Exception as exc:  # any bug or odd input: report it, write nothing
            self.coherence.merge_failed_count += 1
            log.error("[STATE-COHERENCE] merge failed, source=%s - nothing written: %r", source, exc)
            raise MergeError(source, exc) from exc

    def _merge(self, disk: State, source: str) -> State:
        merged, summary = self._merge_or_raise(disk, source)
        c = self.coherence
        c.save_merged_count += 1
        c.last_merge_source, c.last_merge_summary = source, summary
        log.info("[STATE-COHERENCE] merged external update, source=%s summary=%s", source, summary)
        return merged
