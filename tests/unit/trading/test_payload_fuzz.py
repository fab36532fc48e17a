"""Property: any text the submit path accepts either runs or fails as a validation or state error;
nothing the submit path is given crashes it or the worker (issue 11's poison payloads, fuzzed)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trading.commandbus import CommandBus
from trading.config import Settings
from trading.errors import ValidationError
from trading.submit import submit
from trading.worker import Worker

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**500), max_value=10**500)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters() | st.characters(categories=["Cs"]), max_size=8)
    | st.sampled_from(["BTC", "ETH", "btc-1", "p", "\ud800", "x\udfff"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
FIELDS = st.sampled_from(["symbol", "stop_loss", "take_profit", "price", "position_id", "version", "risk_settings"])
VALID = {
    "update_stop_loss": {"symbol": "BTC", "stop_loss": 90.0},
    "update_take_profit": {"symbol": "BTC", "take_profit": 120.0},
    "close_position": {"symbol": "BTC"},
    "apply_profile": {"profile_id": "p", "version": 1, "dry_run": True},
    "nope": {},
}
KINDS = st.sampled_from(sorted(VALID))
DEEP = st.integers(1, 1200).map(lambda n: "[" * n + "]" * n)


def texts(kind: str) -> st.SearchStrategy[str]:
    """A valid payload of ``kind`` with random fields overridden and a random extra section, or any JSON."""
    changed = st.builds(
        lambda overrides, extra: json.dumps({**VALID[kind], **overrides, "extra": extra}),
        st.dictionaries(FIELDS, JSON, max_size=2),
        JSON,
    )
    nested = DEEP.map(lambda deep: json.dumps(VALID[kind])[:-1] + (", " if VALID[kind] else "") + f'"x": {deep}}}')
    return changed | nested | JSON.map(json.dumps)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=KINDS)
def test_submitted_payloads_run_or_fail_cleanly(tmp_path, store, data, kind):
    config = Settings(state_dir=tmp_path)
    try:
        out = submit(config, kind, data.draw(texts(kind)), 0.0, 60.0, None)
    except ValidationError as exc:
        assert exc.code.startswith("validation/")
        return
    bus = CommandBus(config.commands_db)
    try:
        assert Worker(config, bus, store).step() is True
        row = bus.get(out["id"])
    finally:
        bus.close()
    assert row["status"] == "succeeded" or row["error"].split(":")[0].startswith(("validation/", "state/")), row
    assert store.load().state is not None
