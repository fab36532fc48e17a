"""The on-disk state document: an envelope with schema version, generation and checksum.

    {"checksum": "<sha256>", "format": "tradebot-state", "version": 1, "generation": 17,
     "saved_at": "...", "settings_hash": "...", "state": {...}}

The checksum is the sha256 of the compact JSON of every other field, in the order written (a
JSON load and dump reproduces it exactly), so a flipped bit anywhere or a truncation is detected.
A document of a newer schema version is refused before its checksum is judged (newer code may
compute it otherwise): never taken for corrupt, so never replaced by an older backup.  Pure
functions only.

``validate_state`` is the shape every reader relies on, checked on load and before every save:
positions and closed trades are objects, cash and the positions' quantities and prices are finite
numbers within ``MAX_NUMBER``.  ``encode`` writes strict JSON and ``decode`` refuses a document with
a non-finite number anywhere: ``NaN``/``Infinity`` can neither be stored nor loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trading.errors import CorruptStateError, StateTooNewError

FORMAT = "tradebot-state"
CURRENT_VERSION = 1
State = dict[str, Any]
MAX_NUMBER = 1e15  # above any price, quantity or amount this bot can meet; larger is a bug or an attack
OPTIONAL_LEVELS = ("stop_loss", "take_profit", "current_price")


@dataclass(frozen=True)
class Document:
    state: State
    generation: int
    version: int = CURRENT_VERSION
    settings_hash: str | None = None
    saved_at: str = ""


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compact(value: object, allow_nan: bool = True) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan)


def utcnow() -> str:
    return datetime.now(UTC).isoformat()


def encode(doc: Document) -> bytes:
    """The file's bytes; a non-finite number anywhere raises ``ValueError`` (strict JSON only)."""
    fields = {
        "format": FORMAT,
        "version": doc.version,
        "generation": doc.generation,
        "saved_at": doc.saved_at or utcnow(),
        "settings_hash": doc.settings_hash,
        "state": doc.state,
    }
    body = compact(fields, allow_nan=False).encode()
    return b'{"checksum":"' + hashlib.sha256(body).hexdigest().encode() + b'",' + body[1:] + b"\n"


def is_legacy(parsed: object) -> bool:
    """An unversioned document in the shape of the seed's ``live_portfolio.json``."""
    return isinstance(parsed, dict) and "format" not in parsed and ("positions" in parsed or "cash" in parsed)


def parse(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptStateError(f"not JSON ({exc})") from exc


def decode(parsed: object, where: str = "state") -> Document:
    """Check a parsed envelope and return its document; raise on anything doubtful."""
    if not isinstance(parsed, dict) or parsed.get("format") != FORMAT:
        raise CorruptStateError(f"{where} is not a {FORMAT} document")
    fields = dict(parsed)
    claimed = fields.pop("checksum", None)
    version = fields.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > CURRENT_VERSION:
        raise StateTooNewError(where, version, CURRENT_VERSION)  # before the checksum: newer code may sum otherwise
    try:
        body = compact(fields, allow_nan=False)
    except ValueError:
        raise CorruptStateError(f"{where} holds a non-finite number (NaN or Infinity)") from None
    if hashlib.sha256(body.encode()).hexdigest() != claimed:
        raise CorruptStateError(f"{where} fails its checksum")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CorruptStateError(f"{where} has an unknown schema version {version!r}")
    validate_state(fields.get("state"), where)
    return Document(
        fields["state"],
        int(fields["generation"]),
        version,
        fields.get("settings_hash"),
        str(fields.get("saved_at", "")),
    )


def finite(value: object, low: float = -MAX_NUMBER, high: float = MAX_NUMBER) -> bool:
    """A real number (not a bool) that is finite and within ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and low <= value <= high


def check_position(sym: str, pos: object, where: str) -> None:
    if not isinstance(pos, dict):
        raise CorruptStateError(f"{where}: position {sym!r} is not an object")
    for name in ("qty", "entry_price"):
        if not finite(pos.get(name), 0.0):
            raise CorruptStateError(f"{where}: position {sym!r} has {name} {pos.get(name)!r}, not a finite number >= 0")
    for name in OPTIONAL_LEVELS:
        if pos.get(name) is not None and not finite(pos[name], 0.0):
            raise CorruptStateError(f"{where}: position {sym!r} has {name} {pos[name]!r}, not a finite number >= 0")


def check_trades(trades: list, where: str) -> None:
    """Each trade an object; its numbers are finite by ``encode`` (save) and ``decode`` (load)."""
    if not all(type(t) is dict for t in trades):
        index, trade = next((i, t) for i, t in enumerate(trades) if type(t) is not dict)
        raise CorruptStateError(f"{where}: closed_trades[{index}] is {type(trade).__name__}, not an object")


def validate_state(state: object, where: str = "state") -> None:
    """The shape every reader relies on; a checksum cannot vouch for code that wrote nonsense."""
    if not isinstance(state, dict):
        raise CorruptStateError(f"{where}: state is not an object")
    positions, trades = state.get("positions"), state.get("closed_trades")
    if not isinstance(positions, dict) or not isinstance(trades, list):
        raise CorruptStateError(f"{where}: positions must be an object and closed_trades a list")
    if not finite(state.get("cash")):
        raise CorruptStateError(f"{where}: cash is {state.get('cash')!r}, not a finite number")
    for sym, pos in positions.items():
        check_position(sym, pos, where)
    check_trades(trades, where)
