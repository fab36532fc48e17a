"""`deploy.engine.observe` against the real engine, on throw-away containers of the base image."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import docker
import docker.errors
import pytest
from docker.models.containers import Container

from deploy.engine import observe

Run = Callable[[str], Container]


@pytest.fixture
def run(docker_client: docker.DockerClient, base_image: str, unique_name: str) -> Iterator[Run]:
    """Start `sh -c script` in a container of the base image; every one removed afterwards."""
    made: list[Container] = []

    def start(script: str) -> Container:
        name = f"{unique_name}-{len(made)}"
        made.append(docker_client.containers.run(base_image, ["sh", "-c", script], name=name, detach=True))
        return made[-1]

    yield start
    for container in made:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)


def looks_until(
    watch: observe.Watch, done: Callable[[list[observe.Look]], bool], limit: float = 60
) -> list[observe.Look]:
    looks: list[observe.Look] = []
    end = time.monotonic() + limit
    while not done(looks) and time.monotonic() < end:
        looks.append(watch.look())
        time.sleep(0.05)
    return looks


def test_every_stderr_line_comes_once_and_in_order_across_looks_and_stdout_never(run: Run) -> None:
    script = "i=0; while [ $i -lt 3000 ]; do echo err $i >&2; echo out $i; i=$((i+1)); done; sleep 300"
    container = run(script)
    with observe.Watch(container.client, container.id or "") as watch:
        looks = looks_until(watch, lambda seen: sum(len(look.lines) for look in seen) >= 3000)
        looks += [watch.look() for _ in range(3)]
    lines = [line for look in looks for line in look.lines]
    assert lines == [f"err {i}" for i in range(3000)]
    assert looks[-1].state.status == "running" and looks[-1].state.exit_code is None


def test_a_busy_container_shows_cpu_and_a_sleeping_one_none(run: Run) -> None:
    busy, idle = run("while :; do :; done"), run("sleep 300")
    with observe.Watch(busy.client, busy.id or "") as hot, observe.Watch(idle.client, idle.id or "") as cold:
        first = looks_until(hot, lambda seen: bool(seen) and seen[-1].engine_cpu is not None)[-1]
        time.sleep(2.5)
        assert (hot.look().engine_cpu or 0) - (first.engine_cpu or 0) > 0.2
        before = looks_until(cold, lambda seen: bool(seen) and seen[-1].engine_cpu is not None)[-1]
        time.sleep(2.5)
        assert (cold.look().engine_cpu or 0) - (before.engine_cpu or 0) < 0.02


def test_an_exited_container_shows_its_code_a_removed_one_is_gone_and_evidence_keeps_its_last_lines(run: Run) -> None:
    container = run("i=0; while [ $i -lt 100 ]; do echo line $i; i=$((i+1)); done; echo boom >&2; exit 3")
    watch = observe.Watch(container.client, container.id or "")
    looks = looks_until(watch, lambda seen: bool(seen) and seen[-1].state.status == "exited")
    assert looks[-1].state.exit_code == 3 and "boom" in [line for look in looks for line in look.lines]
    kept = observe.evidence(container.client, container.id or "")
    assert (kept.status, kept.exit_code, kept.name, kept.lines, kept.last_line) == (
        "exited",
        3,
        container.name,
        ("boom",),
        "boom",
    )
    assert kept.stdout == tuple(f"line {i}" for i in range(60, 100))  # the last 40 of each stream
    container.remove(force=True)
    assert watch.look().state == observe.State(observe.GONE, None)
    assert observe.evidence(container.client, container.id or "").status == observe.GONE


def test_the_evidence_of_a_container_the_engine_restarted_keeps_the_code_it_exited_with(
    docker_client: docker.DockerClient, base_image: str, unique_name: str
) -> None:
    """Running again, its inspect data says no exit code; the engine's `die` event does (a standby refused its
    settings with exit 9 and its restart policy started it again: that is what says why)."""
    once = "if [ -f /tmp/ran ]; then exec sleep 600; fi; touch /tmp/ran; echo refused >&2; exit 9"
    container = docker_client.containers.run(
        base_image,
        ["sh", "-c", once],
        name=f"{unique_name}-again",
        detach=True,
        restart_policy={"Name": "unless-stopped"},
        network_disabled=True,
    )
    try:
        watch = observe.Watch(docker_client, container.id or "")
        seen = looks_until(watch, lambda looks: bool(looks) and looks[-1].state.restarts > 0)[-1].state
        assert (seen.restarts, seen.exit_code) == (1, None) or seen.status == "restarting", seen
        looks_until(watch, lambda looks: bool(looks) and looks[-1].state.status == "running")
        kept = observe.evidence(docker_client, container.id or "")
        assert (kept.status, kept.restarts, kept.exit_code, kept.last_line) == ("running", 1, 9, "refused")
    finally:
        container.remove(force=True)
