"""The fleet file: what it accepts, in which order, and every rule it refuses with the words an operator needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.errors import FleetFileInvalid
from deploy.fleet import roster

PATH = Path("/repo/fleet.toml")
TWO = """
[fleet]
status_timeout = 5

[settings]
TRADEBOT_TICK_SECONDS = 0.2
TRADEBOT_SYMBOLS = "BTCUSDT"

[members.paper-2]
engine = "ssh://deploy@bot-host-2:2222"
project = "paper-2"
build = false
verify_timeout = 60
[members.paper-2.settings]
TRADEBOT_SYMBOLS = "ETHUSDT"

[members.paper-1]
engine = "unix:///var/run/docker.sock"
project = "paper-1"
"""


def refused(text: str) -> FleetFileInvalid:
    with pytest.raises(FleetFileInvalid) as caught:
        roster.parse(text, PATH)
    assert str(PATH) in caught.value.message and caught.value.hint
    return caught.value


def member(body: str, name: str = "a") -> str:
    return f'[members.{name}]\nengine = "unix:///run/docker.sock"\nproject = "p-{name}"\n{body}\n'


def test_members_keep_the_files_order_with_their_own_settings_over_the_fleets() -> None:
    fleet = roster.parse(TWO, PATH)
    assert [m.name for m in fleet.members] == ["paper-2", "paper-1"]
    second, first = fleet.members
    assert (second.engine, second.project, second.build) == ("ssh://deploy@bot-host-2:2222", "paper-2", False)
    assert dict(second.settings) == {"TRADEBOT_TICK_SECONDS": "0.2", "TRADEBOT_SYMBOLS": "ETHUSDT"}
    assert dict(first.settings) == {"TRADEBOT_TICK_SECONDS": "0.2", "TRADEBOT_SYMBOLS": "BTCUSDT"}
    assert (second.status_timeout, second.verify_timeout) == (5.0, 60.0)
    assert (first.status_timeout, first.verify_timeout, first.build) == (5.0, roster.VERIFY_TIMEOUT, True)
    assert fleet.member("paper-1") is first


def test_asking_for_a_member_the_file_lacks_names_those_it_has() -> None:
    error = refused_member(roster.parse(TWO, PATH), "paper-3")
    assert "paper-3" in error.message and error.hint == "name one of: paper-2, paper-1"


def refused_member(fleet: roster.Fleet, name: str) -> FleetFileInvalid:
    with pytest.raises(FleetFileInvalid) as caught:
        fleet.member(name)
    return caught.value


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ("lists no members",)),
        ("[members.a\n", ("is not valid TOML", "line 1")),
        ("members = 3\n", ("not a table",)),
        ("[member.a]\n", ("unknown keys member",)),
        ('[members.a]\nproject = "p"\n', ("[members.a] has no engine",)),
        ('[members.a]\nengine = "tcp://h:2375"\nproject = "p"\n', ("engine = 'tcp://h:2375'", "ssh://user@host")),
        ('[members.a]\nengine = "unix://run/docker.sock"\nproject = "p"\n', ("engine = 'unix://run/docker.sock'",)),
        ('[members.a]\nengine = "ssh://u:pw@h"\nproject = "p"\n', ("engine = 'ssh://u:pw@h'", "no password")),
        ('[members.a]\nengine = "ssh://u@h/path"\nproject = "p"\n', ("engine = 'ssh://u@h/path'",)),
        ('[members.a]\nengine = "unix:///s"\n', ("[members.a] has project = None",)),
        ('[members.a]\nengine = "unix:///s"\nproject = "Paper"\n', ("project = 'Paper'",)),
        (member("build = 1"), ("build = 1", "build = true")),
        (member("timeout = 3"), ("unknown keys timeout in [members.a]",)),
        (member("status_timeout = 0"), ("status_timeout = 0", "number of seconds")),
        (member("status_timeout = true"), ("status_timeout = True",)),
        ("[fleet]\nstatus = 3\n" + member(""), ("unknown keys status in [fleet]",)),
        (member("[members.a.settings]\nTRADEBOT_API_KEY = 'x'"), ("TRADEBOT_API_KEY, which is a secret",)),
        (member("[members.a.settings]\nTRADEBOT_EXCHANGE_SECRET = 'x'"), ("which is a secret", "host")),
        (member("[members.a.settings]\nTRADEBOT_TICK_SECOND = '1'"), ("no setting", "TRADEBOT_TICK_SECONDS?")),
        (member("[members.a.settings]\nTRADEBOT_ROLE = 'bot'"), ("sets TRADEBOT_ROLE", "the services' settings")),
        ("[settings]\nTRADEBOT_DB_PASSWORD = 'x'\n" + member(""), ("[settings] sets TRADEBOT_DB_PASSWORD, which",)),
        (member("[members.a.settings]\nTRADEBOT_PROJECT = 'x'"), ("sets TRADEBOT_PROJECT", "the fleet sets")),
        (member("[members.a.settings]\nDOCKER_HOST = 'x'"), ("sets DOCKER_HOST;", "the fleet sets")),
        (member("[members.a.settings]\nTRADEBOT_SYMBOLS = ['BTC']"), ("TRADEBOT_SYMBOLS = ['BTC']",)),
        ('[members."A b"]\nengine = "unix:///s"\nproject = "p"\n', ("names a member 'A b'",)),
        (member("", "a") + member("", "b").replace("p-b", "p-a"), ("members a and b the one project 'p-a'",)),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_a_broken_rule_is_refused_naming_where_and_what_to_write(text: str, words: tuple[str, ...]) -> None:
    error = refused(text)
    for word in words:
        assert word in str(error), str(error)


def test_a_missing_file_says_how_to_write_one(tmp_path: Path) -> None:
    with pytest.raises(FleetFileInvalid) as caught:
        roster.load(tmp_path / "fleet.toml")
    assert caught.value.message == f"no fleet file at {tmp_path / 'fleet.toml'}"
    assert "TRADEBOT_FLEET" in caught.value.hint and "[members.NAME]" in caught.value.hint


def test_booleans_and_numbers_become_the_strings_the_environment_holds() -> None:
    text = member("[members.a.settings]\nTRADEBOT_FEED = true\nTRADEBOT_SEED = 3\nTRADEBOT_MAX_PRICE_GAP = 0.5")
    found = dict(roster.parse(text, PATH).members[0].settings)
    assert found == {"TRADEBOT_FEED": "true", "TRADEBOT_SEED": "3", "TRADEBOT_MAX_PRICE_GAP": "0.5"}


NAMES = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)


@given(st.lists(NAMES, min_size=1, max_size=6, unique=True))
def test_any_set_of_valid_members_parses_in_the_files_order(names: list[str]) -> None:
    text = "".join(member("", name) for name in names)
    fleet = roster.parse(text, PATH)
    assert [(m.name, m.project) for m in fleet.members] == [(n, f"p-{n}") for n in names]
