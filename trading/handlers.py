"""What each command does.  State changes go through ``StateStore.transaction``: loaded fresh
under the lock, so a command's effect is never lost; a handler that raises saves nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trading import portfolio
from trading.errors import CommandError
from trading.payloads import Payload
from trading.store.document import State, utcnow
from trading.store.persistence import StateStore

Result = dict[str, Any]


def position(state: State, fields: Payload) -> dict[str, Any]:
    pos = state["positions"].get(fields["symbol"])
    if pos is None:
        raise CommandError("state/no_such_position", f"no open position for {fields['symbol']}")
    if fields.get("position_id") and fields["position_id"] != pos.get("position_id"):
        raise CommandError(
            "state/position_mismatch",
            f"{fields['symbol']} is now position {pos.get('position_id')}, not {fields['position_id']}",
        )
    return pos


def set_field(name: str) -> Callable[[StateStore, Payload], Result]:
    def handle(store: StateStore, fields: Payload) -> Result:
        with store.transaction() as state:
            pos = position(state, fields)
            old, pos[name] = pos.get(name), fields[name]
        return {
            "symbol": fields["symbol"],
            "position_id": pos["position_id"],
            "old": old,
            "new": fields[name],
            "generation": store.last_generation,
        }

    return handle


def close_position(store: StateStore, fields: Payload) -> Result:
    with store.transaction() as state:
        pos = position(state, fields)
        price = float(fields.get("price") or pos.get("current_price") or pos["entry_price"])
        trade = portfolio.close_position(state, fields["symbol"], price, "command", utcnow())
    return {"closed": trade, "generation": store.last_generation}


def apply_profile(_store: StateStore, fields: Payload) -> Result:
    """Validate only: never touches the state or runtime configuration."""
    return {
        "ok": True,
        "dry_run": True,
        "validated": True,
        "profile_id": fields["profile_id"],
        "version": fields["version"],
        "validated_summary_keys_n": len(fields["config_summary"]),
        "validated_risk_keys_n": len(fields["risk_settings"]),
        "would_apply": False,
        "runtime_mutation": False,
    }


HANDLERS: dict[str, Callable[[StateStore, Payload], Result]] = {
    "update_stop_loss": set_field("stop_loss"),
    "update_take_profit": set_field("take_profit"),
    "close_position": close_position,
    "apply_profile": apply_profile,
}
