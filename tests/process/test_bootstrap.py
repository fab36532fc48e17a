"""./bootstrap --deploy-host on a copy of the checkout: one line per phase, and no daemon started for a runner to kill.

The copy gets its own .venv from requirements.lock (pip's cache makes it seconds, not minutes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("checkout")
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


def without_docker(tmp: Path) -> str:
    """A PATH of everything /usr/bin and /bin hold but the docker CLI and dockerd: an engine nobody started."""
    farm = tmp / "bin"
    farm.mkdir(exist_ok=True)
    for folder in (Path("/usr/bin"), Path("/bin"), Path("/usr/sbin")):
        for tool in folder.iterdir():
            if tool.name not in ("docker", "dockerd") and not (farm / tool.name).exists():
                (farm / tool.name).symlink_to(tool)
    return str(farm)


def bootstrap(checkout: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"} | env
    return subprocess.run(
        ["./bootstrap", "--deploy-host"], cwd=checkout, env=environ, capture_output=True, text=True, timeout=600
    )


def test_an_engine_that_does_not_answer_is_named_and_the_phase_is_one_line(checkout: Path) -> None:
    done = bootstrap(checkout, DOCKER_HOST="tcp://127.0.0.1:9")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(
        r"bootstrap: python environment … ok \d+\.\d s: (installed from |up to date \()requirements\.lock\)?", lines[0]
    )
    assert re.fullmatch(r"bootstrap: Docker engine … failed after \d+\.\d s", lines[1]) and len(lines) == 2
    assert done.stderr.startswith("error: DOCKER_HOST=tcp://127.0.0.1:9 does not answer\n  next: ")


def test_a_deploy_host_without_an_engine_is_told_what_to_start_and_nothing_is_started(
    checkout: Path, tmp_path: Path
) -> None:
    done = bootstrap(checkout, PATH=without_docker(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("bootstrap: Docker engine … failed after ")
    assert done.stderr.splitlines()[:2] == [
        "error: no Docker engine answers at the local socket",
        "  next: start it as a service that outlives this job (systemctl start docker), or set DOCKER_HOST; "
        "--deploy-host never starts one",
    ]
    assert "dockerd" not in (checkout / ".tradebot/bootstrap.log").read_text().split("== Docker engine")[1]
