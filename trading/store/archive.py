"""The closed-trades archive: older trades leave the document for append-only files, none is lost.

The document keeps the newest ``keep`` trades; when it holds ``keep + batch``, the oldest move to
``<state dir>/trades/closed_trades.<6-digit segment>.jsonl`` (one JSON object a line, appended and
fsynced before the document that no longer holds them is written) and the document's
``trade_totals`` (``archived_count``, ``archived_pnl``) grow by them: the totals count exactly
the archived trades that the document no longer holds.  A segment is closed at
``segment_bytes`` and the next one begun; segments are never rewritten or deleted.

A kill -9 between the append and the document's write leaves those trades in both places; the
next trim does not append what the current segment already holds, and ``every_trade`` reads
archive + document without duplicates.  So archive + document = every trade, across restarts.
A new state begun over an old one (``bot --fresh``) retires the old archive into
``trades/retired-<UTC time>/`` (``retire``): kept, and no longer counted.  Called under the store's
lock only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from trading.store.atomic import fsync_dir
from trading.store.backups import stamp
from trading.store.document import State, compact
from trading.store.merge import trade_key

PREFIX = "closed_trades."
Trade = dict[str, Any]


def segments(directory: Path) -> list[Path]:
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith(PREFIX) and n.endswith(".jsonl"))
    except FileNotFoundError:
        return []
    return [directory / n for n in names]


def read_segment(path: Path) -> list[Trade]:
    return parse_lines(path.read_bytes())


def parse_lines(raw: bytes) -> list[Trade]:
    """Every whole line of a segment; a torn line (a crash mid-append) is skipped."""
    trades = []
    for line in raw.splitlines():
        try:
            trade = json.loads(line)
        except ValueError:
            continue
        if isinstance(trade, dict):
            trades.append(trade)
    return trades


def every_trade(directory: Path, state: State) -> list[Trade]:
    """Archive + document, each trade once, oldest first."""
    seen, trades = set(), []
    for trade in [t for seg in segments(directory) for t in read_segment(seg)] + list(state["closed_trades"]):
        key = trade_key(trade)
        if key not in seen:
            seen.add(key)
            trades.append(trade)
    return trades


class TradeArchive:
    def __init__(self, directory: Path, keep: int = 200, batch: int = 50, segment_bytes: int = 256 * 1024) -> None:
        self.directory, self.keep, self.batch, self.segment_bytes = directory, keep, batch, segment_bytes

    def split(self, state: State) -> tuple[State, list[Trade]]:
        """The state with the oldest trades beyond ``keep`` moved out (a new dict), and those trades."""
        trades = state["closed_trades"]
        if len(trades) < self.keep + self.batch:
            return state, []
        old = trades[: len(trades) - self.keep]
        totals = dict(state.get("trade_totals") or {"archived_count": 0, "archived_pnl": 0.0})
        totals["archived_count"] = int(totals.get("archived_count", 0)) + len(old)
        totals["archived_pnl"] = float(totals.get("archived_pnl", 0.0)) + sum(float(t.get("pnl") or 0.0) for t in old)
        return {**state, "closed_trades": trades[len(old) :], "trade_totals": totals}, old

    def append(self, trades: list[Trade]) -> None:
        target, created = self.current()
        before = b"" if created else target.read_bytes()
        present = {trade_key(t) for t in parse_lines(before)}
        lines = "".join(compact(t, allow_nan=False) + "\n" for t in trades if trade_key(t) not in present)
        if before and not before.endswith(b"\n"):
            lines = "\n" + lines  # a torn line before ours stays torn, ours stay whole
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            view = memoryview(lines.encode())
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.directory)

    def retire(self) -> Path | None:
        """Move every segment into a new ``retired-<UTC time>/`` (a new state's archive starts empty); where to."""
        old = segments(self.directory)
        if not old:
            return None
        target = self.directory / f"retired-{stamp()}"
        target.mkdir()
        for segment in old:
            os.replace(segment, target / segment.name)
        fsync_dir(target)
        fsync_dir(self.directory)
        return target

    def current(self) -> tuple[Path, bool]:
        """The segment to append to, and whether it is new."""
        existing = segments(self.directory)
        if existing and existing[-1].stat().st_size < self.segment_bytes:
            return existing[-1], False
        number = int(existing[-1].name[len(PREFIX) : -len(".jsonl")]) + 1 if existing else 1
        return self.directory / f"{PREFIX}{number:06d}.jsonl", True
