"""docs/operations.md as a script: every `tradebot` command in it, in its order, on a deployment of its own.

The examples name things a sandbox has under other names (a tag, a checkout's path, a backup, the legacy
volume): they are put in for them. Only the developer's commands (`invoke test`, `invoke lock`) and the fleet's
(they need several engines, one behind ssh: tests/integration/test_fleet_*.py run them on private engines) do not run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from deploy.steps import backups
from tests.integration.test_docs_tour import TRADEBOT
from testsupport import legacy
from testsupport.sandbox import Sandbox, git

ROOT = Path(__file__).resolve().parents[2]
FOLLOWING = ["logs", "--follow"]  # runs until stopped: it must still be running after a few seconds
FLEET = {"fleet-status", "fleet-verify", "fleet-release", "fleet-move"}


def documented() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "docs/operations.md").read_text(), re.S)
    lines = [shlex.split(line, comments=True) for block in blocks for line in block.splitlines()]
    return [words[1:] for words in lines if words and words[0] == "tradebot"]


def single(commands: list[list[str]]) -> list[list[str]]:
    """The commands of one deployment: the guide's fleet commands are each there, and left out."""
    assert {argv[0] for argv in commands} >= FLEET
    return [argv for argv in commands if argv[0] not in FLEET]


def named(argv: list[str], box: Sandbox, legacy_volume: str) -> list[str]:
    """The example's argv with the sandbox's names (a backup's: the newest there is)."""
    swaps = {"/srv/tradebot": str(box.repo), "clawbot-openclaw": legacy_volume}
    found = []
    for word in argv:
        if word.startswith("tradebot_state-backup-"):
            word = backups.listed(box.settings, box.engine)[0].name
        found.append(swaps.get(word, word))
    return found


def test_every_command_of_the_operations_guide_runs_in_order(
    sandbox: Sandbox, fast_ticks: None, tmp_path: Path
) -> None:
    env = {**os.environ, **sandbox.environ(), "PYTHONPATH": str(ROOT)}
    git(sandbox.repo, "tag", "v1.3.2")
    sandbox.commit("the release the guide makes", {"trading/guide.py": "GUIDE = 1\n"})
    git(sandbox.repo, "tag", "v1.4.0")
    name = f"{sandbox.settings.project}-legacy"
    legacy.make(sandbox.engine, sandbox.settings.base_image or "", name, legacy.files("SECRET=1\n"))
    commands = single(documented())
    assert len(commands) > 40 and FOLLOWING in commands
    ran = [sys.executable, "-c", TRADEBOT, "release", "--rev", "v1.3.2"]  # the release the guide's rollback goes to
    assert subprocess.run(ran, cwd=tmp_path, env=env, capture_output=True).returncode == 0
    for argv in commands:
        argv = named(argv, sandbox, name)
        run = [sys.executable, "-c", TRADEBOT, *argv]
        if argv == FOLLOWING:
            with subprocess.Popen(run, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True) as following:
                try:
                    assert following.wait(timeout=4) is None, "logs --follow ended by itself"
                except subprocess.TimeoutExpired:
                    following.kill()
            continue
        done = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr)
