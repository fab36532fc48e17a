"""One place turns a named error into output and an exit code; the exit codes follow the error tree."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from invoke.exceptions import Exit

from deploy import errors
from deploy.errors import DirtyTree, OutputError, TradebotError
from deploy.output.exitcodes import format_error, reported
from deploy.steps.lock import held_by

INTERFACES = Path(__file__).resolve().parents[4] / "docs" / "interfaces.md"


def test_an_error_becomes_what_is_wrong_and_what_to_do_next() -> None:
    text = format_error(held_by("ops@host pid 7", "2026-11-22T00:00:00Z", "tb-deploy-lock"))
    assert text.splitlines()[0] == "error: deploy lock held by ops@host pid 7 since 2026-11-22T00:00:00Z"
    assert text.splitlines()[1].startswith("  next: wait for that deploy")


def test_reported_turns_named_errors_into_their_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    @reported
    def body() -> None:
        raise DirtyTree("uncommitted changes in trading/a.py", "commit them")

    with pytest.raises(Exit) as caught:
        body()
    assert caught.value.code == DirtyTree.exit_code == 4
    assert capsys.readouterr().err == "error: uncommitted changes in trading/a.py\n  next: commit them\n"


def test_reported_lets_bugs_keep_their_traceback() -> None:
    @reported
    def body() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        body()


class ClosedPipe(io.StringIO):
    """A stdout whose reader went away after the first line."""

    def write(self, text: str) -> int:
        if "\n" in self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_closed_stdout_lets_the_task_finish_then_says_what_was_not_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    finished = []

    @reported
    def body() -> None:
        for n in range(4):
            print(f"step {n} … ok 0.1 s")
        finished.append(True)

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    with pytest.raises(Exit) as caught:
        body()
    assert finished and caught.value.code == OutputError.exit_code == 13
    assert capsys.readouterr().err.splitlines() == [
        "error: stdout was closed before the task ended: 3 lines of its output were not shown",
        "  next: read the whole output (no `| head`), or `tradebot report` for what the task did",
    ]


def test_a_task_that_fails_with_a_closed_stdout_keeps_its_own_error(monkeypatch: pytest.MonkeyPatch) -> None:
    @reported
    def body() -> None:
        print("one")
        print("two")
        raise DirtyTree("uncommitted changes in trading/a.py", "commit them")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    with pytest.raises(Exit) as caught:
        body()
    assert caught.value.code == 4


def classes() -> list[type[TradebotError]]:
    found = [value for value in vars(errors).values() if isinstance(value, type)]
    return [cls for cls in found if issubclass(cls, TradebotError)]


def test_every_error_exits_with_the_code_of_its_branch_of_the_tree() -> None:
    """A subclass never sets its own code: the tree decides (the docstring draws it)."""
    for cls in classes():
        if cls is TradebotError:
            continue
        parent = cls.__mro__[1]
        if "exit_code" in vars(cls):
            assert parent is TradebotError, f"{cls.__name__} sets a code below a branch"
        else:
            assert cls.exit_code == getattr(parent, "exit_code", 1)


def test_the_exit_code_table_of_the_docs_names_every_error_with_its_code() -> None:
    section = INTERFACES.read_text().split("## Exit codes of `invoke`")[1].split("\n## ")[0]
    documented = {
        name: int(code)
        for code, names in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M)
        for name in re.findall(r"`([A-Z]\w+)`", names)
    }
    assert documented == {cls.__name__: cls.exit_code for cls in classes()}
