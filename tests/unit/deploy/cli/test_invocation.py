"""What a task refuses before it does anything: invoke's flags for shell commands, and undeclared TRADEBOT_* variables.

Each CLI case runs in-process through the program operators run; every refusal comes before the engine is asked
(DOCKER_HOST points nowhere: a task that got as far as connecting would fail with exit 3 instead).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke import Context

from deploy.cli.invocation import SHELL_FLAGS, environ, refused_flags
from deploy.cli.program import program

NOWHERE = "tcp://127.0.0.1:9"


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    with pytest.raises(SystemExit) as caught:
        program().run(["tradebot", *argv])
    return int(caught.value.code or 0), capsys.readouterr().err


def test_no_flag_set_refuses_nothing_and_each_set_one_is_named() -> None:
    assert refused_flags({}) == []
    assert refused_flags({("run", "hide"): None, ("run", "dry"): False}) == []
    assert refused_flags({("run", "dry"): True, ("timeouts", "command"): 30}) == ["--dry", "--command-timeout"]
    assert len({flag for flag, _ in SHELL_FLAGS.values()}) == len(SHELL_FLAGS)


@pytest.mark.parametrize("flag", ["--dry", "-R", "--echo", "--warn-only", "--pty", "--hide=both", "-T5"])
def test_a_flag_for_shell_commands_is_refused_before_anything_runs(
    flag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run([flag, "deploy"], monkeypatch, capsys)
    lines = err.splitlines()
    assert code == 2 and len(lines) == 2, err
    assert lines[0].startswith("error: --") and "cannot be honoured" in lines[0]
    assert lines[1].startswith("  next: drop --") and "--plan" in lines[1]


def test_an_undeclared_variable_is_refused_with_the_nearest_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRADEBOT_TICK_SECOND", "0.2")
    code, err = run(["status"], monkeypatch, capsys)
    assert code == 2, err
    assert err.splitlines() == [
        "error: TRADEBOT_TICK_SECOND is not a setting of tradebot",
        "  next: did you mean TRADEBOT_TICK_SECONDS? unset TRADEBOT_TICK_SECOND; docs/reference.md lists every setting",
    ]


def test_repo_names_the_checkout_every_task_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADEBOT_REPO", raising=False)
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    ran = program()
    with pytest.raises(SystemExit):  # the engine is nowhere: exit 3, after the configuration was made
        ran.run(["tradebot", "--repo", "/srv/checkout", "status"])
    assert "Docker engine unreachable" in capsys.readouterr().err
    assert environ(Context(ran.config), {})["TRADEBOT_REPO"] == "/srv/checkout"
    assert "TRADEBOT_REPO" not in environ(Context(), {})
