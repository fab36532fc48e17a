"""`invoke test`: each option runs its tier of the suite, and the fast tier holds the integration smoke tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def invoke_dry(*args: str) -> subprocess.CompletedProcess[str]:
    """`invoke --dry test ARGS`: what it would run, running nothing."""
    argv = [sys.executable, "-m", "invoke", "--dry", "test", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "selected"),
    [
        ((), "--durations=40 -n 3 --dist loadfile"),
        (("--unit",), "--durations=40 -n 3 --dist loadfile -m 'not integration and not slow'"),
        (("--fast", "--workers", "2"), "--durations=40 -n 2 --dist loadfile -m 'not integration or smoke'"),
        (("--integration", "--workers", "0", "-k", "lock"), "--durations=40 -m integration -k lock"),
    ],
)
def test_each_option_runs_its_tier(args: tuple[str, ...], selected: str) -> None:
    ran = invoke_dry(*args)
    assert ran.returncode == 0, ran.stderr
    command = re.sub(r"\x1b\[[0-9;]*m", "", ran.stdout).strip()  # invoke colours the command it would run
    assert command == f"{sys.executable} -m pytest {selected}"


def test_two_tiers_at_once_are_refused_and_nothing_runs() -> None:
    ran = invoke_dry("--unit", "--fast")
    assert ran.returncode == 2 and "--unit and --fast are different sets of tests" in ran.stderr
    assert "pytest" not in ran.stdout


def test_the_fast_tier_holds_a_build_deploy_verify_cycle_and_a_refusal() -> None:
    argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", "smoke"]
    listed = subprocess.run([*argv, "tests/integration"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    smoke = {line.split("::")[1] for line in listed.stdout.splitlines() if "::" in line}
    assert {
        "test_the_line_verifies_once_and_verify_alone_asks_everything",
        "test_build_deploy_verify_then_a_new_commit_then_rollback",
        "test_a_second_deploy_while_one_holds_the_lock_is_refused",
    } <= smoke, listed.stdout
