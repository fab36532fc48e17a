"""Command payloads: parsing with limits, the canonical-JSON checksum, expiry, validation per type.

``parse`` is the door, at submit and again in the worker: at most ``MAX_BYTES`` of JSON, nested at
most ``MAX_DEPTH`` deep, every number finite and within ``MAX_NUMBER`` (no 401-digit integers), every
string valid Unicode (no lone surrogates) — anything else is a ``ValidationError``, never a crash.
Validation is pure: it returns the normalised fields a handler needs or raises ``ValidationError``
with a machine-readable code such as ``validation/missing_or_bad_version``.  Prices are finite,
positive and at most ``MAX_NUMBER``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

from trading.errors import ValidationError
from trading.store.document import MAX_NUMBER, canonical

Payload = dict[str, Any]
MAX_BYTES = 64 * 1024
MAX_DEPTH = 16


def parse(text: str) -> Payload:
    """The payload object in ``text``, or ``ValidationError`` for anything outside the limits."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ValidationError("validation/too_large", f"payload is over {MAX_BYTES} bytes")
    try:
        payload = json.loads(text)
    except RecursionError:
        raise ValidationError("validation/too_deep", f"payload is nested deeper than {MAX_DEPTH}") from None
    except ValueError as exc:
        raise ValidationError("validation/not_json", f"payload is not JSON: {exc}") from None
    screen(payload)
    if not isinstance(payload, dict):
        raise ValidationError("validation/bad_payload", "payload must be a JSON object")
    return payload


def screen(value: object) -> None:
    """Walk ``value`` without recursion; raise on depth, a bad number or a string that is no Unicode."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValidationError("validation/too_deep", f"payload is nested deeper than {MAX_DEPTH}")
        if isinstance(item, dict):
            stack += [(k, depth) for k in item] + [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
        elif isinstance(item, str):
            unicode_text(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            bounded(item)


def unicode_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("validation/bad_string", "payload holds a string that is not valid Unicode") from None


def bounded(number: float) -> None:
    if isinstance(number, int) and abs(number) > MAX_NUMBER:  # compare before any float(): no OverflowError
        raise ValidationError("validation/bad_number", f"payload holds an integer beyond {MAX_NUMBER:g}")
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        raise ValidationError(
            "validation/bad_number", f"payload holds {number!r}: numbers must be finite, <= {MAX_NUMBER:g}"
        )


def checksum(payload: Payload) -> str:
    return hashlib.sha256(canonical(payload).encode()).hexdigest()


def verify_envelope(payload: Payload, claimed: str, expires_at: float, now: float) -> None:
    if checksum(payload) != claimed:
        raise ValidationError("validation/bad_checksum", "payload does not match its sha256 checksum")
    if now > expires_at:
        raise ValidationError("validation/expired", f"command expired {now - expires_at:.1f}s ago; submit it again")


def text(payload: Payload, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"validation/missing_or_bad_{name}", f"{name} must be a non-empty string")
    return value


def positive(payload: Payload, name: str, *, key: str | None = None, integer: bool = False) -> float | int:
    value = payload.get(key or name)
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 < value <= MAX_NUMBER:
        kind = "a positive integer" if integer else "a positive number"
        raise ValidationError(
            f"validation/missing_or_bad_{name}", f"{name} must be {kind} up to {MAX_NUMBER:g}, got {value!r}"
        )
    return value


def optional(payload: Payload, name: str, check: Callable[[Payload, str], Any]) -> Any:
    return None if payload.get(name) is None else check(payload, name)


def price_update(field: str) -> Callable[[Payload], Payload]:
    def validate(payload: Payload) -> Payload:
        return {
            "symbol": text(payload, "symbol"),
            field: float(positive(payload, field)),
            "position_id": optional(payload, "position_id", text),
        }

    return validate


def close_position(payload: Payload) -> Payload:
    return {
        "symbol": text(payload, "symbol"),
        "price": optional(payload, "price", positive),
        "position_id": optional(payload, "position_id", text),
    }


def apply_profile(payload: Payload) -> Payload:
    """Dry run only; accepts ``profile_version`` or ``version`` (the seed's payload drift)."""
    key = "profile_version" if payload.get("profile_version") is not None else "version"
    version = positive(payload, "version", key=key, integer=True)
    if payload.get("dry_run", True) is not True:
        raise ValidationError("validation/dry_run_only", "apply_profile runs as a dry run only; send dry_run=true")
    sections = {}
    for name in ("config_summary", "risk_settings"):
        value = payload.get(name, {})
        if not isinstance(value, dict):
            raise ValidationError(f"validation/missing_or_bad_{name}", f"{name} must be an object")
        sections[name] = value
    return {"profile_id": text(payload, "profile_id"), "version": version, **sections}


VALIDATORS: dict[str, Callable[[Payload], Payload]] = {
    "update_stop_loss": price_update("stop_loss"),
    "update_take_profit": price_update("take_profit"),
    "close_position": close_position,
    "apply_profile": apply_profile,
    "apply_profile_testnet": apply_profile,  # the worker seed's name for the same dry run
}


def validate(command_type: str, payload: object) -> Payload:
    if command_type not in VALIDATORS:
        raise ValidationError(
            "validation/unknown_type", f"unknown command type {command_type!r}; known: {', '.join(sorted(VALIDATORS))}"
        )
    if not isinstance(payload, dict):
        raise ValidationError("validation/bad_payload", "payload must be a JSON object")
    return VALIDATORS[command_type](payload)
