"""What each command does.  State changes go through ``StateStore.update``: loaded fresh under the
lock, so a command's effect is never lost; a handler that raises saves nothing.  A handler that
changes the state records its command beside the effect (``trading.applied``): run again, it
changes nothing and returns its first result, marked ``replayed``.

``close_position`` fills at the position's mark (its ``current_price``, the bot's last price): a
``price`` in the payload is the operator's expectation, refused when it is further than the
``max_gap`` from the mark, never a fill at a price of the operator's choosing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from trading import applied, portfolio
from trading.errors import CommandError
from trading.marks import continuous
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


@dataclass(frozen=True)
class Job:
    """One run of one command: the store, the command's id, and what a handler asks of the bus and settings."""

    store: StateStore
    command_id: int
    unfinished: Callable[[Collection[int]], set[int]]  # of these command ids, those that may run again
    max_gap: float


class Once:
    """The outcome of one state-changing command: ``result`` set by the handler, or ``replayed`` found."""

    def __init__(self) -> None:
        self.result: Result = {}


@contextlib.contextmanager
def once(job: Job) -> Iterator[tuple[State | None, Once]]:
    """A transaction for the job's command: the state to change, or None where it was applied already.

    The handler sets ``outcome.result``; it is recorded with the effect and comes back with the
    generation saved.  A replay saves nothing and comes back as first recorded.
    """
    outcome = Once()
    with job.store.update() as pending:
        outcome.result = applied.recorded(pending.state, job.command_id) or {}
        if outcome.result:
            pending.abort()
            yield None, outcome
            return
        yield pending.state, outcome
        applied.record(pending.state, job.command_id, dict(outcome.result), job.unfinished)
    outcome.result["generation"] = job.store.last_generation


def set_field(name: str) -> Callable[[Job, Payload], Result]:
    def handle(job: Job, fields: Payload) -> Result:
        with once(job) as (state, outcome):
            if state is not None:
                pos = position(state, fields)
                old, pos[name] = pos.get(name), fields[name]
                outcome.result = {"symbol": fields["symbol"], "position_id": pos["position_id"], "old": old}
                outcome.result["new"] = fields[name]
        return outcome.result

    return handle


def fill(pos: dict[str, Any], expected: float | None, max_gap: float) -> float:
    """The position's mark, once the operator's ``expected`` price (if any) agrees with it."""
    mark = float(pos.get("current_price") or pos["entry_price"])
    if expected is not None and not continuous(expected, mark, max_gap):
        raise CommandError(
            "state/price_off_mark",
            f"price {expected} is {abs(expected / mark - 1):.1%} from {pos['symbol']}'s mark {mark} (more than "
            f"{max_gap:.1%}); a close fills at the mark: send no price, or one near the mark",
        )
    return mark


def close_position(job: Job, fields: Payload) -> Result:
    with once(job) as (state, outcome):
        if state is not None:
            price = fill(position(state, fields), fields.get("price"), job.max_gap)
            outcome.result = {"closed": portfolio.close_position(state, fields["symbol"], price, "command", utcnow())}
    return outcome.result


def apply_profile(_job: Job, fields: Payload) -> Result:
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


HANDLERS: dict[str, Callable[[Job, Payload], Result]] = {
    "update_stop_loss": set_field("stop_loss"),
    "update_take_profit": set_field("take_profit"),
    "close_position": close_position,
    "apply_profile": apply_profile,
    "apply_profile_testnet": apply_profile,  # the worker seed's name for the same dry run
}
