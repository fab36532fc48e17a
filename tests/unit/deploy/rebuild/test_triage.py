"""The rebuild's plan: what is carried, left behind, refused — and that no rule over any volume is broken."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.errors import KeepNotFound, NotLegacy, TargetClash
from deploy.output.render import template
from deploy.rebuild import triage
from deploy.rebuild.inventory import Item
from tests.unit.deploy.rebuild.factories import item, real_layout, volume

LAYOUT = real_layout()
SECRET = "BINANCE_API_SECRET=do-not-print-me"
LEGACY = volume(
    ".env",
    "workspace/live_portfolio.json",
    "workspace/logs/bot.log",
    "workspace/trading/main.py",
    "workspace/trading-backup-old/main.py",
    "workspace/notes.txt",
    "workspace/memo/a.txt",
    **{".env": SECRET},
)


def test_state_and_secrets_are_carried_code_and_unknown_left_behind() -> None:
    chosen = triage.make(LEGACY, LAYOUT)
    assert {(c.item.path, c.to, c.secret) for c in chosen.carried} == {
        (".env", ".env", True),
        ("workspace/live_portfolio.json", "live_portfolio.json", False),
        ("workspace/logs/bot.log", "logs/bot.log", False),
    }
    assert [i.path for i in chosen.code] == ["workspace/trading-backup-old/main.py", "workspace/trading/main.py"]
    assert [i.path for i in chosen.unknown] == ["workspace/memo/a.txt", "workspace/notes.txt"]


def test_keep_carries_a_named_unknown_file_or_every_unknown_file_below_a_directory() -> None:
    chosen = triage.make(LEGACY, LAYOUT, keep=["workspace/memo/"])
    assert chosen.kept == ("workspace/memo/a.txt",)
    assert "memo/a.txt" in {c.to for c in chosen.carried}
    assert [i.path for i in chosen.unknown] == ["workspace/notes.txt"]


def test_keep_of_a_file_that_is_not_unknown_is_refused_naming_the_unknown_ones() -> None:
    with pytest.raises(KeepNotFound) as refused:
        triage.make(LEGACY, LAYOUT, keep=["workspace/trading/main.py"])
    assert refused.value.data["unknown"] == ["workspace/memo/a.txt", "workspace/notes.txt"]


def test_a_volume_without_state_files_is_refused_naming_what_was_looked_for() -> None:
    with pytest.raises(NotLegacy) as refused:
        triage.make(volume("workspace/trading/main.py", "workspace/logs/bot.log"), LAYOUT)
    assert "workspace/live_portfolio.json" in refused.value.data["looked_for"]
    assert "live_portfolio.json" in refused.value.message


def test_two_files_landing_on_one_path_are_refused() -> None:
    with pytest.raises(TargetClash) as refused:
        triage.make(volume("live_portfolio.json", "workspace/live_portfolio.json"), LAYOUT)
    assert refused.value.data["target"] == "live_portfolio.json"


def test_the_state_volume_is_expected_to_hold_exactly_the_carried_files_as_the_runtime_users() -> None:
    expected = triage.make(LEGACY, LAYOUT).expected(LAYOUT)
    assert set(expected) == {".", ".env", "live_portfolio.json", "logs", "logs/bot.log"}
    assert {(i.uid, i.gid) for i in expected.values()} == {(10001, 10001)}
    assert expected[".env"].mode == 0o600 and expected["live_portfolio.json"].mode == 0o644
    assert expected["logs"].kind == "dir" and expected["logs"].mode == 0o750
    assert expected[".env"].sha256 == LEGACY[".env"].sha256  # byte-identical


def test_the_printed_plan_and_inventory_never_show_a_secrets_hash() -> None:
    chosen = triage.make(LEGACY, LAYOUT)
    listed = template("rebuild_inventory.txt.j2", files=triage.listing(LEGACY, LAYOUT))
    printed = triage.render(chosen, "legacy", "tb_state") + listed
    secret_hash = LEGACY[".env"].sha256 or ""
    assert secret_hash[:10] not in printed and SECRET not in printed
    assert ".env" in printed and "(secret)" in printed


names = st.sampled_from(["main.py", "bot.log", ".env", "live_portfolio.json", "notes.txt", "x.pyc", "a.json"])
dirs = st.sampled_from(["", "workspace/", "workspace/trading/", "workspace/logs/", "trading-backup-1/", "misc/"])
volumes = st.lists(st.tuples(dirs, names).map("".join), min_size=1, max_size=12, unique=True)


@given(volumes)
def test_every_file_is_carried_left_behind_or_unknown_exactly_once_and_code_is_never_carried(paths: list[str]) -> None:
    found = volume(*paths, "workspace/live_portfolio.json")
    try:
        chosen = triage.make(found, LAYOUT)
    except TargetClash as clash:
        first, second = clash.data["sources"]  # type: ignore[misc]
        assert LAYOUT.target(first) == LAYOUT.target(second)
        return
    carried = [c.item.path for c in chosen.carried]
    sorted_out = carried + [i.path for i in chosen.code] + [i.path for i in chosen.unknown]
    assert sorted(sorted_out) == sorted(p for p in found if p != ".")
    assert not {LAYOUT.classify(p) for p in carried} & {"code", "unknown"}
    assert len({c.to for c in chosen.carried}) == len(chosen.carried)


@given(volumes, st.data())
def test_keep_carries_exactly_the_kept_unknown_files(paths: list[str], data: st.DataObject) -> None:
    found = volume(*paths, "workspace/live_portfolio.json", "workspace/zz-unknown.txt")
    unknown = [p for p in found if p != "." and LAYOUT.classify(p) == "unknown"]
    keep = data.draw(st.lists(st.sampled_from(unknown), min_size=1, unique=True))
    try:
        chosen = triage.make(found, LAYOUT, keep)
    except TargetClash:
        return
    assert set(chosen.kept) == set(keep)
    assert {i.path for i in chosen.unknown} == set(unknown) - set(keep)


def test_a_carried_link_keeps_its_own_mode() -> None:
    link = Item(".env", "link", 0, 0o777, 1000, 1000, "0" * 64)
    chosen = triage.make({**volume("live_portfolio.json"), ".env": link}, LAYOUT)
    assert chosen.expected(LAYOUT)[".env"].mode == 0o777
    assert item(".env").kind == "file"
