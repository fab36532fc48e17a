"""The checkout's tasks: the operator's (`deploy/cli`, the same `tradebot` serves) and the developer's `test`.

`invoke --list` shows them; `invoke --help TASK` shows a task's options.
Settings come from the environment (docs/reference.md, `deploy/config.py`).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from invoke import Context, Exit, task

from deploy.cli import namespace

# Which tests each option runs (pytest -m); no option: all of them, as CI runs them.
TEST_TIERS = {
    "unit": "not integration and not slow",
    "fast": "not integration or smoke",
    "integration": "integration",
}


# Every run ends with its slowest tests, so each CI log says where the time went.
REPORTED = ("--durations=40",)
# pytest-xdist workers, each running whole test files (a module's shared deployment and its tests' order
# stay in one process): the integration tests mostly wait on the engine, so more of them than CI's 2 cores.
WORKERS = 3


@task(
    help={
        "unit": "only the tests that need no Docker engine and run no slow multi-process rounds (seconds)",
        "fast": "the unit and multi-process tests and the integration smoke tests (a build/deploy/verify cycle, "
        "refusals): the tier to run before each commit (docs/operations.md has its time)",
        "integration": "only the integration tests (real Docker engine and Compose)",
        "k": "pytest -k expression",
        "workers": f"parallel pytest workers (default {WORKERS}); 0 runs every test in turn in one process",
    }
)
def test(
    c: Context, unit: bool = False, fast: bool = False, integration: bool = False, k: str = "", workers: int = WORKERS
) -> None:
    """Run the test suite: unit, multi-process and integration tests against the real engine."""
    chosen = [tier for tier, wanted in (("unit", unit), ("fast", fast), ("integration", integration)) if wanted]
    if len(chosen) > 1:
        raise Exit(f"invoke test: --{' and --'.join(chosen)} are different sets of tests; give one", code=2)
    argv = [sys.executable, "-m", "pytest", *REPORTED]
    if workers:
        argv += ["-n", str(workers), "--dist", "loadfile"]
    if chosen:
        argv += ["-m", TEST_TIERS[chosen[0]]]
    if k:
        argv += ["-k", k]
    c.run(shlex.join(argv), pty=False)


# The lock files ./bootstrap installs from: exact versions with their hashes, for every platform, of what
# pyproject.toml's ranges allow, plus the build backend (the project is installed without build isolation).
LOCKS = {"requirements.lock": (), "requirements-dev.lock": ("--extra", "dev")}


@task
def lock(c: Context) -> None:
    """Remake requirements.lock and requirements-dev.lock from pyproject.toml's ranges (uv, from the dev tools)."""
    root = Path(__file__).parent
    build = "\n".join(tomllib.loads((root / "pyproject.toml").read_text())["build-system"]["requires"])
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    for name, extra in LOCKS.items():
        argv = [uv, "pip", "compile", "pyproject.toml", "-", *extra, "--generate-hashes", "--universal"]
        argv += ["--python-version", "3.11", "--custom-compile-command", "invoke lock", "--quiet", "-o", name]
        subprocess.run(argv, cwd=root, input=build, text=True, check=True)
        pinned = re.findall(r"^\S+==", (root / name).read_text(), re.M)
        print(f"{name}: {len(pinned)} packages pinned with their hashes")


ns = namespace()
ns.add_task(test)
ns.add_task(lock)
