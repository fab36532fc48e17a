"""One place turns a named error into output and an exit code; the exit codes follow the error tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from invoke.exceptions import Exit

from deploy import errors
from deploy.errors import DirtyTree, TradebotError
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
