"""Progress of a volume command: each step named when it starts, and what it proved with its duration."""

from __future__ import annotations

import re

import pytest

from deploy.rebuild.progress import Steps


def test_each_step_is_named_numbered_and_timed() -> None:
    lines: list[str] = []
    steps = Steps("volume-rebuild", 2, lines.append)
    with steps.step("inventory", "reading every file of legacy") as proved:
        proved("20 files")
    with steps.step("backup", "copying legacy"):
        pass
    assert lines[0] == "volume-rebuild [1/2] inventory: reading every file of legacy …"
    assert re.fullmatch(r"volume-rebuild \[1/2\] inventory: 20 files \(\d+\.\d\d s\)", lines[1])
    assert re.fullmatch(r"volume-rebuild \[2/2\] backup: done \(\d+\.\d\d s\)", lines[3])
    assert list(steps.timings) == ["inventory", "backup"]


def test_a_failing_step_is_named_and_not_reported_done() -> None:
    lines: list[str] = []
    steps = Steps("volume-rebuild", 1, lines.append)
    with pytest.raises(RuntimeError), steps.step("state", "carrying"):
        raise RuntimeError("copy failed")
    assert lines == ["volume-rebuild [1/1] state: carrying …"]
