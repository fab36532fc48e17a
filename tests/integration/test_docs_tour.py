"""The README's tour, line by line, as the installed `tradebot` runs it from another directory, on a sandbox."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from testsupport.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
TRADEBOT = "import sys; from deploy.cli.program import main; sys.argv[0] = 'tradebot'; main()"


def tour() -> list[list[str]]:
    block = (ROOT / "README.md").read_text().split("## A tour\n\n```sh\n")[1].split("```")[0]
    return [shlex.split(line, comments=True)[1:] for line in block.splitlines()]


def test_every_line_of_the_tour_runs(sandbox: Sandbox, fast_ticks: None, tmp_path: Path) -> None:
    env = {**os.environ, **sandbox.environ(), "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-c", TRADEBOT, "build", "deploy"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr  # an earlier release: the tour's rollback has a way back
    sandbox.commit("the release the tour makes", {"trading/tour.py": "TOUR = 1\n"})
    lines = tour()
    assert len(lines) == 10
    for argv in lines:
        done = subprocess.run(
            [sys.executable, "-c", TRADEBOT, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
        if argv[:3] == ["build", "deploy", "verify"]:
            said = done.stdout.splitlines()
            assert re.fullmatch(
                r"verify: OK: \w{12} \(HEAD is the release\): all \d+ points equal, all \d+ checks pass", said[-1]
            )
            assert len(said) < 30, said  # one line a step (20 today), not one a check (verify has over 50)
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
