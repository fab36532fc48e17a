"""What each command does.  State changes go through ``StateStore.update``: loaded fresh under the
lock, so a command's effect is never lost; a handler that raises saves nothing.  A handler that
changes the state records its command beside the effect (``trading.applied``): run again, it
changes nothing and returns its first result, marked ``replayed``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from trading import applied, portfolio
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


class Once:
    """The outcome of one state-changing command: ``result`` set by the handler, or ``replayed`` found."""

    def __init__(self) -> None:
        self.result: Result = {}


@contextlib.contextmanager
def once(store: StateStore, command_id: int) -> Iterator[tuple[State | None, Once]]:
    """A transaction for command ``command_id``: the state to change, or None where it was applied already.

    The handler sets ``outcome.result``; it is recorded with the effect and comes back with the
    generation saved.  A replay saves nothing and comes back as first recorded.
    """
    outcome = Once()
    with store.update() as pending:
        outcome.result = applied.recorded(pending.state, command_id) or {}
        if outcome.result:
            pending.abort()
            yield None, outcome
            return
        yield pending.state, outcome
        applied.record(pending.state, command_id, dict(outcome.result))
    outcome.result["generation"] = store.last_generation


def set_field(name: str) -> Callable[[StateStore, Payload, int], Result]:
    def handle(store: StateStore, fields: Payload, command_id: int) -> Result:
        with once(store, command_id) as (state, outcome):
            if state is not None:
                pos = position(state, fields)
                old, pos[name] = pos.get(name), fields[name]
                outcome.result = {"symbol": fields["symbol"], "position_id": pos["position_id"], "old": old}
                outcome.result["new"] = fields[name]
        return outcome.result

    return handle


def close_position(store: StateStore, fields: Payload, command_id: int) -> Result:
    with once(store, command_id) as (state, outcome):
        if state is not None:
            pos = position(state, fields)
            price = float(fields.get("price") or pos.get("current_price") or pos["entry_price"])
            outcome.result = {"closed": portfolio.close_position(state, fields["symbol"], price, "command", utcnow())}
    return outcome.result


def apply_profile(_store: StateStore, fields: Payload, _command_id: int) -> Result:
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


HANDLERS: dict[str, Callable[[StateStore, Payload, int], Result]] = {
    "update_stop_loss": set_field("stop_loss"),
    "update_take_profit": set_field("take_profit"),
    "close_position": close_position,
    "apply_profile": apply_profile,
}
