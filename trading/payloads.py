"""Command payloads: the canonical-JSON checksum, expiry, and validation per command type.

Validation is pure: it returns the normalised fields a handler needs or raises
``ValidationError`` with a machine-readable code such as ``validation/missing_or_bad_version``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from trading.errors import ValidationError
from trading.store.document import canonical

Payload = dict[str, Any]


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
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ValidationError(f"validation/missing_or_bad_{name}", f"{name} must be {kind}, got {value!r}")
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
}


def validate(command_type: str, payload: object) -> Payload:
    if command_type not in VALIDATORS:
        raise ValidationError(
            "validation/unknown_type", f"unknown command type {command_type!r}; known: {', '.join(sorted(VALIDATORS))}"
        )
    if not isinstance(payload, dict):
        raise ValidationError("validation/bad_payload", "payload must be a JSON object")
    return VALIDATORS[command_type](payload)
