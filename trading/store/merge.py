"""The section-ownership merge for a holder whose in-memory state went stale on disk.

Three inputs: ``base`` (what the holder loaded), ``mine`` (its memory now) and ``disk`` (what
another process saved since).  Money is counted once: a position is closed once, and what is on
disk happened first.  The rules, from the reconcile plan and issue 11:

- A close of the holder (a trade in ``mine`` not in ``base``) of a position that is gone on disk
  (closed by the other side too), or whose ``stop_loss``/``take_profit`` the other side changed,
  is undone in memory: its cash, its trade, its cooldown and the loss counter.  A position whose
  levels changed comes back with the disk's levels; the holder decides again on its next tick.
  (When the holder already reopened the symbol, a close over changed levels stands.)
- ``positions`` three-way by ``position_id``: one the holder opened is kept; one the other side
  closed is dropped; one the holder closed stays closed; one the other side opened is taken, and a
  holder's open of the same symbol is undone (its cost back to cash).
- ``stop_loss`` / ``take_profit`` of a position: disk wins when disk changed it since ``base``.
- ``closed_trades``: the disk's, plus the holder's new ones, without duplicates (by
  ``position_id``, else by content), ordered by ``closed_at``.  Trades in ``base`` that disk no
  longer holds were archived by the store and stay out.  ``trade_totals`` (the archive's) and
  ``applied_commands`` (the worker's record of commands applied, ``trading.applied``) are disk's.
- ``cash``: the holder's value (after undoing) plus what the other side added.
- every other section (cooldowns, loss count, emergency stop, prices) is the holder's.

Pure functions only; the result keeps cash = starting capital + realised P&L - cost of the open
positions whenever all three inputs do.
"""

from __future__ import annotations

import copy
from typing import Any

from trading.store.document import State, canonical

DISK_WINS_FIELDS = ("stop_loss", "take_profit")
DISK_SECTIONS = ("trade_totals", "applied_commands")  # written by the store and the worker, never a holder
Position = dict[str, Any]


def pid_of(pos: Position | None) -> object:
    return None if pos is None else pos.get("position_id")


def trade_key(trade: dict[str, Any]) -> str:
    pid = trade.get("position_id")
    return f"id:{pid}" if pid else f"content:{canonical(trade)}"


def levels_changed(before: Position, after: Position) -> bool:
    return any(before.get(f) != after.get(f) for f in DISK_WINS_FIELDS)


def contradicted(trade: dict, base: State, mine: State, disk: State) -> Position | bool | None:
    """Whether disk contradicts the holder's close ``trade``: False, or the position to reinstate (None: none)."""
    sym, pid = trade.get("symbol"), trade.get("position_id")
    before = base["positions"].get(sym)
    if not pid or pid_of(before) != pid:
        return False  # opened and closed by the holder alone
    now = disk["positions"].get(sym)
    if pid_of(now) != pid:
        return None  # closed on disk as well: the disk's close stands
    if levels_changed(before, now) and sym not in mine["positions"]:
        return {**now, "current_price": trade.get("exit_price", now.get("current_price"))}
    return False


def replay_losses(count: int, trades: list[dict]) -> int:
    for trade in trades:
        count = count + 1 if float(trade.get("pnl") or 0.0) < 0 else 0
    return count


def undo_closes(base: State, mine: State, disk: State, summary: dict) -> None:
    """Take back the holder's closes that disk contradicts (mutates ``mine``, a private copy)."""
    base_keys = {trade_key(t) for t in base["closed_trades"]}
    new = [t for t in mine["closed_trades"] if trade_key(t) not in base_keys]
    undone = []
    for trade in new:
        verdict = contradicted(trade, base, mine, disk)
        if verdict is False:
            continue
        undone.append(trade)
        mine["cash"] = float(mine["cash"]) - float(trade["qty"]) * float(trade["exit_price"])
        if verdict is not None:
            mine["positions"][trade["symbol"]] = verdict
    if not undone:
        return
    summary["closes_undone"] = len(undone)
    gone = {id(t) for t in undone}
    mine["closed_trades"] = [t for t in mine["closed_trades"] if id(t) not in gone]
    kept = [t for t in new if id(t) not in gone]
    mine["repeat_loss_count"] = replay_losses(int(base.get("repeat_loss_count") or 0), kept)
    restore_cooldowns(base, mine, undone, kept)


def restore_cooldowns(base: State, mine: State, undone: list[dict], kept: list[dict]) -> None:
    still_cooling = {t.get("symbol") for t in kept if t.get("reason") == "stop_loss"}
    cooldowns = mine.setdefault("sl_cooldowns", {})
    for trade in undone:
        sym = trade.get("symbol")
        if trade.get("reason") != "stop_loss" or sym in still_cooling:
            continue
        if sym in base.get("sl_cooldowns", {}):
            cooldowns[sym] = base["sl_cooldowns"][sym]
        else:
            cooldowns.pop(sym, None)


def merge_position(base: Position | None, mine: Position | None, disk: Position | None, summary: dict):
    """One symbol's position after the merge, or None when it is closed."""
    if mine is None:
        if disk is None or pid_of(disk) == pid_of(base):
            return None  # closed by the holder (or by both)
        summary["positions_added_from_disk"] += 1
        return disk
    if disk is None:
        if pid_of(base) == pid_of(mine):
            summary["positions_closed_on_disk"] += 1
            return None
        return mine  # opened by the holder
    if pid_of(disk) != pid_of(mine):
        return mine if pid_of(disk) == pid_of(base) else disk  # disk's open replaced the base or came first
    return merge_fields(base, mine, disk, summary)


def merge_fields(base: Position | None, mine: Position, disk: Position, summary: dict) -> Position:
    merged = dict(mine)
    for field in DISK_WINS_FIELDS:
        if disk.get(field) != (base or {}).get(field) and disk.get(field) != mine.get(field):
            merged[field] = disk.get(field)
            summary["fields_taken_from_disk"] += 1
    return merged


def undo_clashing_opens(base: State, mine: State, disk: State, summary: dict) -> None:
    """The holder opened a symbol that the other side opened first: the holder's open is undone."""
    for sym, pos in list(mine["positions"].items()):
        theirs = disk["positions"].get(sym)
        known = {pid_of(base["positions"].get(sym)), pid_of(theirs)}
        if theirs is not None and pid_of(pos) not in known and pid_of(theirs) != pid_of(base["positions"].get(sym)):
            mine["cash"] = float(mine["cash"]) + float(pos["qty"]) * float(pos["entry_price"])
            del mine["positions"][sym]
            summary["opens_undone"] = summary.get("opens_undone", 0) + 1


def merge_trades(base: list[dict], mine: list[dict], disk: list[dict], summary: dict) -> list[dict]:
    base_keys, seen = {trade_key(t) for t in base}, set()
    merged = []
    for trade in [*disk, *(t for t in mine if trade_key(t) not in base_keys)]:
        key = trade_key(trade)
        if key not in seen:
            seen.add(key)
            merged.append(trade)
    mine_keys = {trade_key(t) for t in mine}
    summary["closed_trades_added_from_disk"] = sum(trade_key(t) not in mine_keys for t in disk)
    return sorted(merged, key=lambda t: str(t.get("closed_at") or ""))


def empty_summary() -> dict[str, Any]:
    return {
        "positions_added_from_disk": 0,
        "positions_closed_on_disk": 0,
        "fields_taken_from_disk": 0,
        "closed_trades_added_from_disk": 0,
        "cash_delta_from_disk": 0.0,
    }


def merge_states(base: State, mine: State, disk: State) -> tuple[State, dict[str, Any]]:
    """Return the merged state and a summary of what came from disk and what was undone."""
    summary = empty_summary()
    merged = {**mine, "positions": dict(mine["positions"]), "closed_trades": list(mine["closed_trades"])}
    merged["sl_cooldowns"] = dict(mine.get("sl_cooldowns") or {})
    undo_closes(base, merged, disk, summary)
    undo_clashing_opens(base, merged, disk, summary)
    positions = {}
    for sym in sorted(set(merged["positions"]) | set(disk["positions"])):
        pos = merge_position(
            base["positions"].get(sym), merged["positions"].get(sym), disk["positions"].get(sym), summary
        )
        if pos is not None:
            positions[sym] = pos
    merged["positions"] = positions
    merged["closed_trades"] = merge_trades(
        base["closed_trades"], merged["closed_trades"], disk["closed_trades"], summary
    )
    for section in DISK_SECTIONS:
        if section in disk:
            merged[section] = copy.deepcopy(disk[section])
    delta = float(disk["cash"]) - float(base["cash"])
    merged["cash"] = float(merged["cash"]) + delta
    summary["cash_delta_from_disk"] = delta
    return merged, summary
