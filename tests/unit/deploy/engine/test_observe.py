"""`deploy.engine.observe`'s pure parts: timestamps, the cursor over `logs(since=…)` answers, inspect data."""

from __future__ import annotations

import docker
from hypothesis import given
from hypothesis import strategies as st

from deploy.engine import observe
from trading import stages


def test_an_engine_timestamp_is_read_to_the_nanosecond_whatever_its_digits() -> None:
    assert observe.stamp_ns("1970-01-01T00:00:01.000000001Z") == 1_000_000_001
    assert observe.stamp_ns("1970-01-01T00:00:02.5Z") == 2_500_000_000  # the engine trims trailing zeros
    assert observe.stamp_ns("1970-01-01T00:01:00Z") == 60_000_000_000


def test_lines_keep_their_text_after_the_first_space_and_a_line_without_a_stamp_is_dropped() -> None:
    log = b'1970-01-01T00:00:01Z TRADEBOT-STAGE {"a": 1}\nnot stamped\n1970-01-01T00:00:02Z  two  spaces\n'
    assert observe.stamped(log) == [(1_000_000_000, 'TRADEBOT-STAGE {"a": 1}'), (2_000_000_000, " two  spaces")]


def test_the_cursor_asks_a_microsecond_early_and_drops_what_it_has_seen() -> None:
    cursor = observe.Cursor()
    assert cursor.since() is None
    assert cursor.new([(5_000_001_500, "a"), (5_000_001_500, "b")]) == ["a", "b"]
    assert cursor.since() == 5.000001 - 1e-6
    again = [(5_000_000_900, "older"), (5_000_001_500, "a"), (5_000_001_500, "b"), (5_000_001_500, "c"), (6, "x")]
    assert cursor.new(again[:4]) == ["c"]  # same nanosecond: by count
    assert cursor.new([(7_000_000_000, "d")]) == ["d"]


@given(st.lists(st.integers(1, 5000), min_size=1, max_size=60), st.data())
def test_looks_that_overlap_as_since_answers_do_give_every_line_once_in_order(
    stamps: list[int], data: st.DataObject
) -> None:
    lines = [(ns, f"line {i}") for i, ns in enumerate(sorted(stamps))]
    cursor, got, end = observe.Cursor(), [], 0
    while end < len(lines):
        end = data.draw(st.integers(end + 1, len(lines)))  # what the engine has written by this look
        since_ns = cursor.since()
        answer = [line for line in lines[:end] if since_ns is None or line[0] >= since_ns * 1e9]
        got += cursor.new(answer)
    assert got == [text for _, text in lines]


def test_a_container_state_from_its_inspect_data() -> None:
    attrs = {
        "State": {"Status": "running", "ExitCode": 0},
        "RestartCount": 0,
        "Image": "sha256:abc",
        "Name": "/p-bot-1",
        "Config": {"Hostname": "3f2a", "Labels": {"com.docker.compose.service": "bot"}},
    }
    assert observe.state(attrs) == observe.State("running", None, 0, "sha256:abc", "3f2a", "p-bot-1", "bot")
    again = {**attrs, "State": {"Status": "running", "ExitCode": 0}, "RestartCount": 2}
    assert (observe.state(again).exit_code, observe.state(again).restarts) == (None, 2)  # it crashed, runs again
    restarting = {**attrs, "State": {"Status": "restarting", "ExitCode": 3}, "RestartCount": 2}
    assert (observe.state(restarting).exit_code, observe.state(restarting).restarts) == (3, 2)
    assert observe.state({"State": {"Status": "exited", "ExitCode": 0}}).exit_code == 0
    assert observe.state(None) == observe.State(observe.GONE, None)


def test_evidence_goes_to_json_and_back() -> None:
    found = observe.Evidence("id1", "p-bot-1", "bot", "exited", 3, 0, ("Traceback …", "ValueError: x"), ("hi",))
    assert observe.Evidence.from_json(found.to_json()) == found and found.last_line == "ValueError: x"
    assert observe.Evidence("id1", "", "", "exited", 1, 0, ()).last_line == "no output"
    pulse = f'… INFO trading.stage[1]: {stages.MARKER}{{"stage":"imported","waiting_for":null}}'
    settings = ("… ERROR trading: invalid settings: TRADEBOT_TICK_SECONDS='abc'", pulse)
    assert observe.Evidence("id1", "", "bot", "exited", 9, 0, settings).last_line == settings[0]  # pulse said later
    assert observe.Evidence("id1", "", "bot", "exited", 9, 0, (pulse,), ("out",)).last_line == "out"
    assert observe.cpu_seconds({"cpu_stats": {"cpu_usage": {"total_usage": 1_500_000_000}}}) == 1.5
    assert observe.cpu_seconds({"cpu_stats": {}}) is None


def test_a_stream_can_be_cut_short_from_a_local_engine_not_over_ssh() -> None:
    local = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    assert observe.cancellable(local.api.base_url)
    assert not observe.cancellable("http+docker://ssh")  # the SDK's base URL of every ssh:// engine
