"""Progress: each step named when it starts, and what it did with its duration; numbered when the total is known."""

from __future__ import annotations

import re

import pytest

from deploy.output.progress import Progress


def test_each_step_is_named_numbered_and_timed() -> None:
    lines: list[str] = []
    steps = Progress("volume-rebuild", lines.append, total=2)
    with steps.step("inventory", "reading every file of legacy") as proved:
        proved("20 files")
    with steps.step("backup", "copying legacy"):
        pass
    assert lines[0] == "volume-rebuild [1/2] inventory: reading every file of legacy …"
    assert re.fullmatch(r"volume-rebuild \[1/2\] inventory: 20 files in \d+\.\d s", lines[1])
    assert re.fullmatch(r"volume-rebuild \[2/2\] backup: done in \d+\.\d s", lines[3])
    assert list(steps.timings) == ["inventory", "backup"]


def test_without_a_total_the_steps_are_named_only() -> None:
    lines: list[str] = []
    with Progress("deploy", lines.append).step("back up"):
        pass
    assert lines[0] == "deploy: back up …"
    assert re.fullmatch(r"deploy: back up: done in \d+\.\d s", lines[1])


def test_a_failing_step_is_named_and_not_reported_done() -> None:
    lines: list[str] = []
    steps = Progress("volume-rebuild", lines.append, total=1)
    with pytest.raises(RuntimeError), steps.step("state", "carrying"):
        raise RuntimeError("copy failed")
    assert lines == ["volume-rebuild [1/1] state: carrying …"]
