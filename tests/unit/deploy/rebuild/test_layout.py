"""The declared layout: the classes of the seed's legacy paths, and the rules over any path (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.errors import ConfigError
from deploy.rebuild import layout
from tests.unit.deploy.rebuild.factories import real_layout

LAYOUT = real_layout()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".env", "secret"),
        ("workspace/.env", "secret"),
        ("workspace/trading/main.py", "code"),
        ("workspace/trading/execution/paper_trade.py", "code"),
        ("workspace/trading/__pycache__/main.cpython-311.pyc", "code"),
        ("workspace/trading/live_portfolio.json", "code"),  # inside the code directory: the code's, left behind
        ("workspace/trading-backup-pre-bugfix/live_portfolio.json", "code"),  # an old operator copy
        ("tools/cleanup.py", "code"),
        ("workspace/live_portfolio.json", "state"),
        ("live_portfolio.json", "state"),
        ("workspace/runtime_config.json", "state"),
        ("workspace/baseline_holdings.json", "state"),
        ("workspace/managed_state.json", "state"),
        ("workspace/logs/bot.log", "state"),
        ("workspace/data/trading_state/backups/safe_multi_symbol_state_20250120_143022.json", "state"),
        ("workspace/notes.txt", "unknown"),
        ("memUdata/index.db", "unknown"),
    ],
)
def test_the_seed_paths_get_their_class(path: str, expected: str) -> None:
    assert LAYOUT.classify(path) == expected


def test_carried_files_land_under_the_state_root_and_code_maps_onto_trading() -> None:
    assert LAYOUT.target("workspace/logs/bot.log") == "logs/bot.log"
    assert LAYOUT.target(".env") == ".env"
    assert LAYOUT.repo_path("workspace/trading/execution/paper_trade.py") == "execution/paper_trade.py"
    assert LAYOUT.repo_path("workspace/trading-backup-pre-bugfix/main.py") is None


def test_a_volume_looks_legacy_by_its_state_files_only() -> None:
    assert LAYOUT.looks_legacy(["workspace/trading/main.py", "workspace/live_portfolio.json"])
    assert not LAYOUT.looks_legacy(["workspace/trading/main.py", "workspace/logs/bot.log"])


def test_the_state_volume_is_the_runtime_users() -> None:
    owner = LAYOUT.state_volume
    assert (owner.compose_key, owner.uid, owner.gid, owner.secret_mode, owner.dir_mode) == (
        "state",
        10001,
        10001,
        0o600,
        0o750,
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not = [toml", "not a valid volume layout"),
        ("[legacy]\nlook_for = []\nstrip_prefixes = []\n", "not a valid volume layout"),
        (
            '[state_volume]\ncompose_key="s"\nuid=1\ngid=1\ndir_mode=1\nsecret_mode=1\n'
            '[legacy]\nlook_for=[]\nstrip_prefixes=[]\n[[class]]\nname="cache"\npatterns=[]\n',
            "unknown classes ['cache']",
        ),
    ],
)
def test_a_broken_layout_is_named(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        layout.parse(text)


segment = st.text(alphabet="abcdefgz._-ENVtrading", min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))
paths = st.lists(segment, min_size=1, max_size=5).map("/".join)
prefixes = st.sampled_from(["", "workspace/", "workspace/trading/", "workspace/logs/", "trading-backup-x/", "a/b/"])


@given(prefixes, paths)
def test_every_path_gets_exactly_one_known_class(prefix: str, path: str) -> None:
    assert LAYOUT.classify(prefix + path) in (*layout.CLASSES, layout.UNKNOWN)


@given(prefixes, st.lists(segment, max_size=3).map("/".join), st.sampled_from([".env", ".env.production"]))
def test_a_secret_is_a_secret_wherever_it_lies(prefix: str, middle: str, name: str) -> None:
    """Secret comes first: not even inside the code directory is a .env treated as code."""
    path = "/".join(part for part in (prefix.rstrip("/"), middle, name) if part)
    assert LAYOUT.classify(path) == "secret"


@given(paths)
def test_nothing_below_the_legacy_code_directory_is_ever_carried(path: str) -> None:
    assert LAYOUT.classify("workspace/trading/" + path) in ("secret", "code")


@given(prefixes, paths)
def test_a_path_is_unknown_exactly_when_no_pattern_matches(prefix: str, path: str) -> None:
    from fnmatch import fnmatchcase

    full = prefix + path
    matched = any(fnmatchcase(full, p) for _, patterns in LAYOUT.classes for p in patterns)
    assert (LAYOUT.classify(full) == layout.UNKNOWN) == (not matched)


@given(prefixes, paths)
def test_a_target_stays_inside_the_state_volume(prefix: str, path: str) -> None:
    target = LAYOUT.target(prefix + path)
    assert target and not target.startswith("/") and ".." not in target.split("/")
