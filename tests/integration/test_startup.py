"""`deploy.steps.startup.wait` on the real engine: throw-away containers of the base image that say stages.

Each container runs a small python3 program that writes stage lines as `trading.stages` does (with a
pulse of its main thread's CPU), then does what the case needs: reaches `running`, hangs, crashes,
burns CPU for a while first, or runs other code than meant. A start that is meant to pass runs
under the default limits; the failures are judged with a 2 s stall.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import docker
import docker.errors
import pytest

from deploy.config import Settings
from deploy.errors import StartFailed
from deploy.steps import startup
from trading import stages

PROGRAM = r"""
import json, os, sys, threading, time
stage, release = "started", os.environ.get("RELEASE", "r1")

def cpu():
    fields = open(f"/proc/self/task/{os.getpid()}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), fields[0]

def say(now=None):
    seconds, run = cpu()
    doc = {"protocol": 2, "stage": now or stage, "release": release, "cpu": seconds, "run": run}
    sys.stderr.write("x INFO trading.stage[1]: MARKER" + json.dumps(doc) + "\n")
    sys.stderr.flush()

def pulse():
    while stage != "running":
        time.sleep(0.5)
        say()

say()
threading.Thread(target=pulse, daemon=True).start()
for stage in ("imported", "configured", "locked", "state_loaded"):
    say()
case = os.environ["CASE"]
if case == "crash":
    raise RuntimeError("cannot load the state")
if case == "hang":
    time.sleep(3600)
if case == "busy":
    end = time.monotonic() + 5
    while time.monotonic() < end:
        pass
stage = "running"
say()
time.sleep(3600)
""".replace("MARKER", stages.MARKER)

Start = Callable[..., str]


@pytest.fixture
def start(docker_client: docker.DockerClient, base_image: str, unique_name: str) -> Iterator[Start]:
    """Run PROGRAM as `case` in a container of the base image; its id. All removed afterwards."""
    made: list[str] = []

    def run(case: str, release: str = "r1") -> str:
        container = docker_client.containers.run(
            base_image,
            ["python3", "-c", PROGRAM],
            environment={"CASE": case, "RELEASE": release},
            name=f"{unique_name}-{case}-{len(made)}",
            detach=True,
            network_disabled=True,
        )
        made.append(container.id or "")
        return made[-1]

    yield run
    for container in made:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.containers.get(container).remove(force=True)


def target(container: str, stall: float | None = None, release: str = "r1") -> startup.Target:
    settings = Settings() if stall is None else Settings(start_stall=stall)
    return startup.Target(container, "bot", startup.limits(settings, stages.RUNNING, "bot", release, False))


def test_a_good_start_and_one_that_burns_cpu_longer_than_the_stall_both_pass(
    docker_client: docker.DockerClient, start: Start
) -> None:
    good, busy = start("good"), start("busy")
    judged = startup.wait(docker_client, [target(good), target(busy, stall=2)])
    assert {j.why for j in judged.values()} == {"bot reached running"}


def test_a_hang_fails_after_the_stall_naming_its_stage_and_the_setting(
    docker_client: docker.DockerClient, start: Start
) -> None:
    hung = start("hang")
    begun = time.monotonic()
    with pytest.raises(StartFailed) as failed:
        startup.wait(docker_client, [target(hung, stall=2)])
    assert 2 <= time.monotonic() - begun < 15
    assert "made no progress" in failed.value.message and "stage state_loaded" in failed.value.message
    assert "TRADEBOT_START_STALL=2 tunes it" in failed.value.message and failed.value.data["container"] == hung


def test_a_crash_fails_at_once_with_its_last_line_and_no_setting(
    docker_client: docker.DockerClient, start: Start
) -> None:
    crashed = start("crash")
    with pytest.raises(StartFailed) as failed:
        startup.wait(docker_client, [target(crashed)])
    assert "exited with code 1 at stage state_loaded" in failed.value.message
    assert "RuntimeError: cannot load the state" in failed.value.message and failed.value.data["setting"] is None


def test_another_release_than_meant_fails(docker_client: docker.DockerClient, start: Start) -> None:
    other = start("good", release="r2")
    with pytest.raises(StartFailed, match="runs code r2, expected r1"):
        startup.wait(docker_client, [target(other)])
