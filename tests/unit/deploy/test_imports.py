"""What a CLI process imports before it does any work (the speed of `invoke status` and `invoke --list`).

Each case runs in a fresh interpreter: an import once made cannot be undone in this one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("docker", "git", "jinja2", "testinfra", "pytest", "paramiko")


def loaded(code: str, **env: str) -> dict[str, bool]:
    """Which of HEAVY are imported (and not blocked) after running `code` in a fresh interpreter."""
    report = f"print(json.dumps({{m: sys.modules.get(m) is not None for m in {HEAVY}}}))"
    probe = f"import json, sys\n{code}\n{report}"
    base = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.splitlines()[-1])


def test_loading_the_tasks_imports_no_heavy_module() -> None:
    """What `invoke --list` pays for: invoke reads every name of tasks.py, so nothing heavy may sit there."""
    code = "from invoke import Collection\nimport tasks\nCollection.from_module(tasks)"
    assert not any(loaded(code).values())


def test_the_docker_sdk_skips_paramiko_for_a_local_engine() -> None:
    assert loaded("import deploy, docker") == {**dict.fromkeys(HEAVY, False), "docker": True}


def test_an_ssh_engine_keeps_the_sdks_ssh_transport() -> None:
    code = "import deploy, docker.transport\nassert docker.transport.SSHHTTPAdapter"
    assert loaded(code, DOCKER_HOST="ssh://deploy@bot-host")["paramiko"]
