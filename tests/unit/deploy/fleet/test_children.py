"""How a member's child is run and read: its environment, its command line, its answer, its timeout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from deploy.engine.runner import Runner
from deploy.fleet import children
from deploy.fleet.roster import Member

MEMBER = Member("paper-1", "ssh://deploy@bot-host", "paper-1", settings={"TRADEBOT_TICK_SECONDS": "0.2"})


def test_a_member_runs_with_its_engine_project_and_the_fleets_settings_never_the_shells() -> None:
    shell = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "DOCKER_HOST": "unix:///elsewhere.sock",
        "DOCKER_CONTEXT": "prod",
        "TRADEBOT_PROJECT": "other",
        "TRADEBOT_SYMBOLS": "DOGEUSDT",  # a runtime setting the shell happened to export
        "TRADEBOT_START_TIMEOUT": "30",  # the pipeline's own settings pass
        "PYTHONPATH": "/mine",
    }
    env = children.environ(MEMBER, shell, Path("/repo"))
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "TRADEBOT_START_TIMEOUT": "30",
        "TRADEBOT_TICK_SECONDS": "0.2",
        "DOCKER_HOST": "ssh://deploy@bot-host",
        "TRADEBOT_PROJECT": "paper-1",
        "TRADEBOT_REPO": "/repo",
        "PYTHONPATH": f"{children.CODE_ROOT}:/mine",
    }


def test_the_child_runs_this_code_whatever_the_working_directory() -> None:
    assert children.argv("status", "--projects", "a") == [
        sys.executable,
        "-P",
        "-m",
        "deploy.fleet.member",
        "status",
        "--projects",
        "a",
    ]
    assert (Path(children.CODE_ROOT) / "deploy" / "fleet" / "member.py").is_file()


def test_an_answer_is_the_last_line_of_stdout_and_an_unreachable_engine_is_named_so() -> None:
    said = children.answer_of("a", 0, "noise\n" + json.dumps({"ok": True, "x": 1}) + "\n", 1.5)
    assert (said.ok, said.document["x"], said.unreachable) == (True, 1, "")
    down = {"ok": False, "error": "Docker engine unreachable (refused)", "error_type": "EngineUnreachable"}
    said = children.answer_of("a", 3, json.dumps(down), 0.2)
    assert (said.ok, said.unreachable) == (False, "Docker engine unreachable (refused)")
    other = {"ok": False, "error": "Compose v2 not found", "error_type": "ComposeMissing", "exit_code": 3}
    said = children.answer_of("a", 3, json.dumps(other), 0.2)
    assert (said.ok, said.unreachable, said.error) == (False, "", "Compose v2 not found")


def test_a_child_that_says_nothing_usable_is_a_failure_quoting_what_it_said() -> None:
    said = children.answer_of("a", 1, "Traceback (most recent call last): boom\n", 0.1)
    assert not said.ok and said.error == "no document (exit 1): Traceback (most recent call last): boom"
    assert children.answer_of("a", 1, "", 0.1).error == "no document (exit 1): no output"
    crashed = children.answer_of("a", 1, "", 0.1, "Traceback (most recent call last):\nValueError: boom\n")
    assert crashed.error.endswith("ValueError: boom")


class Sleeper(Runner):
    """Runs a sleeping Python instead of the member's child (the timeout path of a frozen engine)."""

    def run(self, argv, **kwargs):  # type: ignore[no-untyped-def, override]
        return super().run([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)


def test_a_member_whose_child_hangs_is_killed_at_its_timeout_and_named_unreachable() -> None:
    members = [MEMBER, Member("paper-2", "unix:///s", "paper-2")]
    envs = {m.name: {} for m in members}
    said = children.ask_all(members, envs, ("status",), {"paper-1": 0.5, "paper-2": 1.0}, Sleeper())
    assert [a.member for a in said] == ["paper-1", "paper-2"]
    assert [a.unreachable for a in said] == [
        "no answer within 0.5 s (its engine or host may be frozen or down)",
        "no answer within 1 s (its engine or host may be frozen or down)",
    ]
    assert all(a.seconds < 10 for a in said)
