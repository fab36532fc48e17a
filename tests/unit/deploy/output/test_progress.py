"""Progress: each step named when it starts, and what it did with its duration; numbered when the total is known."""

from __future__ import annotations

import re

import pytest

from deploy.errors import TradebotError
from deploy.output.progress import Progress
from deploy.procedures.procedure import Step, walk_steps
from deploy.procedures.trail import Trail


def test_each_step_is_named_numbered_and_timed() -> None:
    lines: list[str] = []
    trail = Trail()
    steps = [Step("inventory", lambda: "20 files", doing="reading every file of legacy", proves=True)]
    steps.append(Step("backup", lambda: None, doing="copying legacy"))
    walk_steps(Progress("volume-rebuild", lines.append, total=2), trail, steps)
    assert lines[0] == "volume-rebuild [1/2] inventory: reading every file of legacy …"
    assert re.fullmatch(r"volume-rebuild \[1/2\] inventory: 20 files in \d+\.\d s", lines[1])
    assert re.fullmatch(r"volume-rebuild \[2/2\] backup: done in \d+\.\d s", lines[3])
    assert [step.name for step in trail.steps] == ["inventory", "backup"]


def test_without_a_total_the_steps_are_named_only() -> None:
    lines: list[str] = []
    walk_steps(Progress("deploy", lines.append), Trail(), [Step("back up", lambda: "not said: it proves nothing")])
    assert lines[0] == "deploy: back up …"
    assert re.fullmatch(r"deploy: back up: done in \d+\.\d s", lines[1])


def test_a_failing_step_is_named_and_not_reported_done() -> None:
    lines: list[str] = []
    trail = Trail()

    def fails() -> None:
        raise TradebotError("copy failed")

    with pytest.raises(TradebotError):
        walk_steps(Progress("volume-rebuild", lines.append, total=1), trail, [Step("state", fails, doing="carrying")])
    assert lines == ["volume-rebuild [1/1] state: carrying …"]
    assert [(step.name, step.ok) for step in trail.steps] == [("state", False)]
