"""The section-ownership merge for a holder whose in-memory state went stale on disk.

Three inputs: ``base`` (what the holder loaded), ``mine`` (its memory now) and ``disk`` (what
another process saved since).  The rules, from the reconcile plan:

- ``positions`` three-way: a position the holder opened is kept; one the other side closed
  (same ``position_id`` in base, gone on disk) is dropped; one the holder closed stays closed.
- ``stop_loss`` / ``take_profit`` of a position: disk wins when disk changed it since ``base``.
- ``closed_trades``: the union by ``position_id`` (entries without one are deduplicated by content).
- ``cash``: the holder's value plus what the other side added (a worker's close credits cash).
- every other section (cooldowns, loss count, emergency stop, prices) is the holder's.

Pure functions only.
"""

from __future__ import annotations

from typing import Any

from trading.store.document import State, canonical

DISK_WINS_FIELDS = ("stop_loss", "take_profit")


def pid_of(pos: dict[str, Any] | None) -> object:
    return None if pos is None else pos.get("position_id")


def merge_position(base: dict | None, mine: dict | None, disk: dict | None, summary: dict) -> dict | None:
    """One symbol's position after the merge, or None when it is closed."""
    if mine is None:
        if disk is None or pid_of(disk) == pid_of(base):
            return None  # closed by the holder (or by both)
        summary["positions_added_from_disk"] += 1
        return disk
    if disk is None:
        if base is not None and pid_of(base) == pid_of(mine):
            summary["positions_closed_on_disk"] += 1
            return None
        return mine  # opened by the holder
    merged = dict(mine)
    if pid_of(disk) == pid_of(mine):
        for field in DISK_WINS_FIELDS:
            if disk.get(field) != (base or {}).get(field) and disk.get(field) != mine.get(field):
                merged[field] = disk.get(field)
                summary["fields_taken_from_disk"] += 1
    return merged


def merge_positions(base: dict, mine: dict, disk: dict, summary: dict) -> dict:
    merged = {}
    for sym in sorted(set(mine) | set(disk)):
        pos = merge_position(base.get(sym), mine.get(sym), disk.get(sym), summary)
        if pos is not None:
            merged[sym] = pos
    return merged


def trade_key(trade: dict[str, Any]) -> str:
    pid = trade.get("position_id")
    return f"id:{pid}" if pid else f"content:{canonical(trade)}"


def union_trades(disk: list[dict], mine: list[dict], summary: dict) -> list[dict]:
    seen = {trade_key(t) for t in mine}
    from_disk = [t for t in disk if trade_key(t) not in seen]
    summary["closed_trades_added_from_disk"] = len(from_disk)
    return [*mine, *from_disk]


def empty_summary() -> dict[str, Any]:
    return {
        "positions_added_from_disk": 0,
        "positions_closed_on_disk": 0,
        "fields_taken_from_disk": 0,
        "closed_trades_added_from_disk": 0,
        "cash_delta_from_disk": 0.0,
    }


def merge_states(base: State, mine: State, disk: State) -> tuple[State, dict[str, Any]]:
    """Return the merged state and a summary of what came from disk."""
    summary = empty_summary()
    merged = dict(mine)
    merged["positions"] = merge_positions(base["positions"], mine["positions"], disk["positions"], summary)
    merged["closed_trades"] = union_trades(disk["closed_trades"], mine["closed_trades"], summary)
    delta = float(disk["cash"]) - float(base["cash"])
    merged["cash"] = float(mine["cash"]) + delta
    summary["cash_delta_from_disk"] = delta
    return merged, summary
