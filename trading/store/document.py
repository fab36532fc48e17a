"""The on-disk state document: an envelope with schema version, generation and checksum.

    {"checksum": "<sha256>", "format": "tradebot-state", "version": 1, "generation": 17,
     "saved_at": "...", "settings_hash": "...", "state": {...}}

The checksum is the sha256 of the compact JSON of every other field, in the order written (a
JSON load and dump reproduces it exactly), so a flipped bit anywhere, a truncation or a forged
version is detected.  Pure functions only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trading.errors import CorruptStateError, StateTooNewError

FORMAT = "tradebot-state"
CURRENT_VERSION = 1
State = dict[str, Any]


@dataclass(frozen=True)
class Document:
    state: State
    generation: int
    version: int = CURRENT_VERSION
    settings_hash: str | None = None
    saved_at: str = ""


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def utcnow() -> str:
    return datetime.now(UTC).isoformat()


def encode(doc: Document) -> bytes:
    fields = {
        "format": FORMAT,
        "version": doc.version,
        "generation": doc.generation,
        "saved_at": doc.saved_at or utcnow(),
        "settings_hash": doc.settings_hash,
        "state": doc.state,
    }
    body = compact(fields)
    checksum = hashlib.sha256(body.encode()).hexdigest()
    return ('{"checksum":"' + checksum + '",' + body[1:] + "\n").encode()


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
    if hashlib.sha256(compact(fields).encode()).hexdigest() != claimed:
        raise CorruptStateError(f"{where} fails its checksum")
    version = fields.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CorruptStateError(f"{where} has an unknown schema version {version!r}")
    if version > CURRENT_VERSION:
        raise StateTooNewError(where, version, CURRENT_VERSION)
    validate_state(fields.get("state"), where)
    return Document(
        fields["state"],
        int(fields["generation"]),
        version,
        fields.get("settings_hash"),
        str(fields.get("saved_at", "")),
    )


def validate_state(state: object, where: str = "state") -> None:
    """The shape every reader relies on; a checksum cannot vouch for code that wrote nonsense."""
    if not isinstance(state, dict):
        raise CorruptStateError(f"{where}: state is not an object")
    if not isinstance(state.get("positions"), dict) or not isinstance(state.get("closed_trades"), list):
        raise CorruptStateError(f"{where}: positions must be an object and closed_trades a list")
    if not all(isinstance(p, dict) for p in state["positions"].values()):
        raise CorruptStateError(f"{where}: every position must be an object")
    cash = state.get("cash")
    if not isinstance(cash, int | float) or isinstance(cash, bool):
        raise CorruptStateError(f"{where}: cash must be a number")
