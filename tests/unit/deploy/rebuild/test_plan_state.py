"""How a rebuild's plan shows the legacy volume's state file: a legacy document the bot migrates, a corrupt one."""

from __future__ import annotations

from deploy.output.render import template
from deploy.rebuild.plan import LegacyState
from deploy.steps import snapshot


def shown(content: bytes) -> str:
    facts = snapshot.state_facts({snapshot.STATE_FILE: content})
    legacy = LegacyState("clawbot-openclaw", "t0", (), "workspace/live_portfolio.json", facts, "")
    return template("rebuild_legacy_state.txt.j2", l=legacy)


def test_a_legacy_document_is_migrated_by_the_bot():
    assert "none (unversioned: the bot migrates it on its first start), 1 open positions" in shown(
        b'{"cash": 1, "positions": {"BTCUSDT": {}}}'
    )


def test_a_corrupt_legacy_portfolio_is_named_not_promised_a_migration():
    """The issue's case: a corrupt legacy portfolio got 'the bot migrates it' in the plan."""
    text = shown(b'{"cash": 1, "positions": ')
    assert "unreadable: no state document the bot can read or migrate" in text and "migrates it" not in text


def test_a_legacy_document_listing_its_positions_is_migrated_too():
    assert "the bot migrates it on its first start), 2 open positions" in shown(
        b'{"cash": 1, "positions": [{"symbol": "BTCUSDT"}, {"symbol": "ETHUSDT"}]}'
    )
