"""The documentation says what the code does: every command in it names tasks and options that exist, and the
reference's tables of settings and exit codes are the code's.

The README's tour and every command of docs/operations.md run for real: tests/integration/test_docs_tour.py and
test_docs_operations.py.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from invoke import Collection
from invoke.parser import Parser, ParserContext

import tasks
from deploy import errors
from deploy.cli.program import Tradebot
from deploy.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/operations.md", "docs/reference.md")
COMMAND = re.compile(r"^(?:\S*/)?(tradebot|invoke)\s+(.*)$")


def commands(name: str) -> list[list[str]]:
    """The argv after `tradebot` or `invoke` of every command line in the document's code blocks."""
    text = (ROOT / name).read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S) + re.findall(r"(?m)^    (\S.*)$", text)
    found = []
    for block in blocks:
        for line in block.splitlines():
            for part in line.split("&&"):
                match = COMMAND.match(part.strip())
                if match:
                    found.append(shlex.split(match[2], comments=True))
    return found


def documented() -> list[list[str]]:
    return [argv for name in DOCS for argv in commands(name)]


def parse(argv: list[str]) -> list[str]:
    """The tasks `argv` names (a ParseError for an unknown task or option); `--help TASK` asks for that task."""
    argv = [word for word in argv if word != "--help"]
    core = ParserContext(args=Tradebot().core_args())
    parsed = Parser(initial=core, contexts=Collection.from_module(tasks).to_contexts()).parse_argv(argv)
    return [context.name for context in parsed if context.name]


def test_the_docs_show_every_task() -> None:
    shown = {name for argv in documented() for name in parse(argv)}
    assert shown == set(Collection.from_module(tasks).task_names)


@pytest.mark.parametrize("argv", documented(), ids=" ".join)
def test_every_documented_command_names_tasks_and_options_that_exist(argv: list[str]) -> None:
    assert parse(argv)  # a ParseError names the unknown task or option


def section(name: str, title: str) -> str:
    return (ROOT / name).read_text().split(f"## {title}\n")[1].split("\n## ")[0]


def test_the_settings_table_is_the_declared_list() -> None:
    rows = re.findall(
        r"^\| `(TRADEBOT_\w+)` \| (.*?) \| (.*?) \| (.*?) \|$", section("docs/reference.md", "Settings"), re.M
    )
    assert rows == [(s.name, s.default, str(s.read_by), s.meaning) for s in SETTINGS]


def test_the_exit_code_table_names_every_error_with_its_code() -> None:
    rows = re.findall(r"^\| (\d+) \| .*? \| (.*?) \|$", section("docs/reference.md", "Exit codes"), re.M)
    documented = {name: int(code) for code, names in rows for name in re.findall(r"`(\w+)`", names)}
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.TradebotError)]
    assert documented == {cls.__name__: cls.exit_code for cls in classes}
