"""`deploy.engine.execs.run` against the real engine: what ran is an answer, what could not run is a named error."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors
import pytest
from docker.models.containers import Container

from deploy.engine import execs
from deploy.errors import CommandNotStarted, ExecRefused


@pytest.fixture
def idle(docker_client: docker.DockerClient, base_image: str, unique_name: str) -> Iterator[Container]:
    """A container of the base image that only sleeps; removed afterwards."""
    container = docker_client.containers.run(
        base_image, ["sleep", "300"], name=unique_name, detach=True, labels={"io.tradebot.test": unique_name}
    )
    yield container
    with contextlib.suppress(docker.errors.NotFound):  # one test removes it itself
        container.remove(force=True, v=True)


def test_an_exec_answers_with_its_exit_code_and_its_streams_apart(idle: Container) -> None:
    ran = execs.run(idle, ["sh", "-c", "echo out; echo err >&2; echo more; exit 3"])
    assert ran == execs.Exec(3, b"out\nmore\n", b"err\n")
    assert execs.run(idle, ["true"]) == execs.Exec(0, b"", b"")


def test_many_execs_at_once_each_read_whole(idle: Container) -> None:
    """Output ready before its response was read, many times over (the SDK's exec_start cut it or misread it)."""
    argv = ["sh", "-c", "echo out; echo err >&2; head -c 300000 /usr/bin/python3 | od; echo end >&2"]
    expected = execs.run(idle, argv)
    assert expected.stdout.startswith(b"out\n") and len(expected.stdout) > 300_000 and expected.stderr == b"err\nend\n"
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: execs.run(idle, argv), range(80)))
    assert [n for n, ran in enumerate(answers) if ran != expected] == []


def test_a_missing_command_is_not_started_and_the_engine_says_why(idle: Container) -> None:
    with pytest.raises(CommandNotStarted) as raised:
        execs.run(idle, ["no-such-command", "x"])
    assert "no-such-command" in raised.value.data["detail"] and raised.value.data["container"] == idle.name
    assert execs.run(idle, ["sh", "-c", "exit 126"]).exit_code == 126  # a command's own 126 is an answer


def test_a_stopped_or_removed_container_refuses_the_exec(idle: Container) -> None:
    idle.kill()  # `sleep` as pid 1 ignores SIGTERM
    with pytest.raises(ExecRefused) as stopped:
        execs.run(idle, ["true"])
    assert not isinstance(stopped.value, CommandNotStarted) and "is not running" in stopped.value.data["detail"]
    assert f"`docker logs {idle.name}` why it stopped" in stopped.value.hint
    idle.remove(force=True)
    with pytest.raises(ExecRefused) as removed:
        execs.run(idle, ["true"])
    assert "No such container" in removed.value.data["detail"]
