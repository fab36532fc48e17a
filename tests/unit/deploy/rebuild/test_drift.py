"""Drift of the legacy code against trading/ at the commit: the seed's repo ↔ volume table."""

from __future__ import annotations

from deploy.rebuild import drift
from tests.unit.deploy.rebuild.factories import item, real_layout

LAYOUT = real_layout()


def test_same_changed_only_in_volume_and_only_in_repo_with_short_hashes() -> None:
    code = [
        item("workspace/trading/strategy.py", "same"),
        item("workspace/trading/bot.py", "hot-fixed"),
        item("workspace/trading/execution/paper_trade.py", "legacy"),
        item("workspace/trading/__pycache__/bot.cpython-311.pyc", "cache"),  # not code
        item("workspace/trading-backup-pre-bugfix/bot.py", "old copy"),  # not mapped
    ]
    repo = {"strategy.py": item("x", "same").sha256 or "", "bot.py": "b" * 64, "worker.py": "c" * 64}
    rows = drift.compare(code, repo, LAYOUT)
    assert [(r.path, r.status) for r in rows] == [
        ("bot.py", "changed"),
        ("execution/paper_trade.py", "only in volume"),
        ("strategy.py", "same"),
        ("worker.py", "only in repo"),
    ]
    assert rows[0].repo == "b" * 12 and len(rows[0].volume) == 12
    assert rows[3].volume == "" and rows[1].repo == ""


def test_the_table_names_the_commit_and_counts_each_status() -> None:
    rows = drift.compare([item("workspace/trading/bot.py", "x")], {"bot.py": "a" * 64, "cli.py": "c" * 64}, LAYOUT)
    text = drift.render(rows, "0123456789abcdef")
    assert text.splitlines()[0].endswith("0 same, 1 changed, 0 only in volume, 1 only in repo")
    assert "repo 0123456789" in text and "cli.py" in text and "aaaaaaaaaa" in text
