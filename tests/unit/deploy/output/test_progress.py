"""Progress: one line per step when it ends (name, ok or failed, duration); numbered when the total is known;
with a verbose voice each step is also named when it starts."""

from __future__ import annotations

import re
import threading
import time

import pytest

from deploy.errors import TradebotError
from deploy.output.progress import Progress, Voice, verbose
from deploy.procedures.procedure import Step, walk_steps
from deploy.procedures.trail import Trail


def test_each_step_is_one_line_when_it_ends_numbered_and_timed_with_what_it_proved() -> None:
    lines: list[str] = []
    trail = Trail()
    steps = [Step("inventory", lambda: "20 files", doing="reading every file of legacy", proves=True)]
    steps.append(Step("backup", lambda: None, doing="copying legacy"))
    walk_steps(Progress("volume-rebuild", lines.append, total=2), trail, steps)
    assert len(lines) == 2
    assert re.fullmatch(r"volume-rebuild \[1/2\] inventory … ok \d+\.\d s: 20 files", lines[0])
    assert re.fullmatch(r"volume-rebuild \[2/2\] backup … ok \d+\.\d s", lines[1])
    assert [step.name for step in trail.steps] == ["inventory", "backup"]


def test_a_verbose_voice_also_names_each_step_when_it_starts() -> None:
    lines: list[str] = []
    said = Voice(lines.append, verbose=True)
    walk_steps(Progress("deploy", said), Trail(), [Step("back up", lambda: "not said: it proves nothing")])
    assert lines[0] == "deploy: back up …"
    assert re.fullmatch(r"deploy: back up … ok \d+\.\d s", lines[1]) and len(lines) == 2
    assert verbose(said) and not verbose(Voice(lines.append)) and not verbose(lines.append)


def test_a_failing_step_is_one_line_saying_it_failed_and_after_how_long() -> None:
    lines: list[str] = []
    trail = Trail()

    def fails() -> None:
        raise TradebotError("copy failed")

    with pytest.raises(TradebotError):
        walk_steps(Progress("volume-rebuild", lines.append, total=1), trail, [Step("state", fails, doing="carrying")])
    assert len(lines) == 1 and re.fullmatch(r"volume-rebuild \[1/1\] state … failed after \d+\.\d s", lines[0])
    assert [(step.name, step.ok) for step in trail.steps] == [("state", False)]


def test_lines_said_from_two_threads_come_out_whole() -> None:
    written: list[str] = []

    def line(text: str) -> None:  # as print: the text, then its end, written apart
        written.append(text)
        time.sleep(0.001)
        written.append("\n")

    voice = Voice(line)
    threads = [threading.Thread(target=lambda n=n: [voice(f"step {n}.{i}") for i in range(20)]) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    lines = "".join(written).splitlines()
    assert sorted(lines) == sorted(f"step {n}.{i}" for n in (1, 2) for i in range(20))
