"""The operator's CLI against a sandbox: `invoke` as a separate process, and the shape every refusal has.

`invoke` runs from the checkout under test (`ROOT`), with the operator's environment of the sandbox's
deployment (`Sandbox.environ`) over the test's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deploy.records import ledger
from testsupport.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]


def cli_env(box: Sandbox, **env: str) -> dict[str, str]:
    """The environment an operator's `invoke` of the sandbox's deployment runs with (plus `env`).

    Without PYTHONUNBUFFERED, as on a CI runner: output to a pipe must come line by line all the same."""
    inherited = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    return {**inherited, **box.environ(), **env}


def invoke(box: Sandbox, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "invoke", *args]
    return subprocess.run(argv, cwd=ROOT, env=cli_env(box, **env), capture_output=True, text=True, timeout=timeout)


def refused(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The error line, after checking the exit code, the two-line shape and the words it must name."""
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0].strip() for line in lines] == ["error", "next"], result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return lines[0]


def nothing_deployed(box: Sandbox) -> None:
    """No container, `:live` tag, state volume or ledger entry of the sandbox's project: a refusal changed nothing."""
    label = f"com.docker.compose.project={box.settings.project}"
    assert not box.engine.containers.list(all=True, filters={"label": label})
    assert not box.engine.images.list(name=box.settings.live_image)
    assert not [v for v in box.engine.volumes.list() if v.name.startswith(box.settings.state_volume)]
    assert ledger.read(box.settings, box.engine) == []
