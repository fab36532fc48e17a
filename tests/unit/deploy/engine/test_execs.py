"""What the engine returned for an exec, judged: an answer with its exit code and streams apart, or not started."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploy.engine.execs import Exec, answer
from deploy.errors import CommandNotStarted, ExecRefused

NOT_FOUND = b'OCI runtime exec failed: exec failed: exec: "nope": executable file not found in $PATH: unknown\r\n'


def test_the_streams_are_joined_apart_in_the_order_they_came() -> None:
    chunks = [(b"a", None), (None, b"x"), (b"b\n", None), (None, b"y\n")]
    found = answer("bot-1", ["sh"], chunks, {"Pid": 41, "ExitCode": 3, "Running": False})
    assert found == Exec(3, b"ab\n", b"xy\n")


def test_a_command_that_ran_and_wrote_nothing_is_an_answer() -> None:
    assert answer("bot-1", ["true"], [], {"Pid": 7, "ExitCode": 0}) == Exec(0, b"", b"")


def test_an_exec_whose_process_never_started_is_not_an_answer_and_names_the_engine_message() -> None:
    with pytest.raises(CommandNotStarted) as raised:
        answer("bot-1", ["nope", "--flag"], [(NOT_FOUND, None)], {"Pid": 0, "ExitCode": 126})
    error = raised.value
    assert isinstance(error, ExecRefused) and error.data["container"] == "bot-1"
    assert error.data["argv"] == ["nope", "--flag"] and error.data["detail"] == NOT_FOUND.decode().strip()
    assert error.message.startswith("cannot run `nope …` in container bot-1: OCI runtime exec failed")
    assert "`nope` on its PATH" in error.hint


def test_every_exec_of_the_project_goes_through_deploy_execs() -> None:
    root = Path(__file__).resolve().parents[4]
    sources = [
        p for folder in ("deploy", "trading", "testsupport", "bench", "tests") for p in (root / folder).rglob("*.py")
    ]
    calls = re.compile(r"\.exec_run\(|\.exec_(create|start|inspect)\(")
    found = {str(p.relative_to(root)) for p in sources if p != Path(__file__) and calls.search(p.read_text())}
    assert found == {"deploy/engine/execs.py"}
