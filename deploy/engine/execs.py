"""Running a command inside a container: the one way every caller execs (health probes, verify's inside).

The rule: create the exec, read its output to the end through the HTTP response (stdout and stderr
apart), then ask the engine for its exit code — `exec_create`, `POST /exec/{id}/start`, `exec_inspect`.
Never `Container.exec_run`: over `DOCKER_HOST=ssh://` it closes a finished exec's stream by writing to
an `ssh` process that has already exited, and raises BrokenPipeError after the output was read, so the
answer of an exec that ran is lost. Never the SDK's `exec_start` either: after the engine upgrades the
connection it reads a local socket from under the HTTP response's buffer, so output that reached the
buffer with the response's headers (on a busy host, a command that answers at once) is skipped and what
follows is misread: output cut short, stderr lost, or `ValueError: 110 is not a valid stream`
(docker-py#3160). `output` asks for the same upgrade and reads the same frames through that buffer (over ssh the
SDK reads the `ssh` process's output, which is that buffer already).

An exec that ran is an `Exec`, whatever its exit code. One that did not is an error
(`deploy.errors`): `ExecRefused` when the container is not running (stopped, restarting, paused,
gone), `CommandNotStarted` when it runs but the command cannot start (missing, not executable).
The engine tells the two apart from a failing command by the exec's pid: 0 when nothing started
(it then writes its own message on stdout and reports exit code 126).

`answer` judges what the engine returned (pure); `run` asks it.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker.errors
from docker import APIClient
from docker.models.containers import Container

from deploy.errors import CommandNotStarted, ExecRefused

Chunk = tuple[bytes | None, bytes | None]  # (stdout, stderr): one of them per chunk, as `demux=True` streams them
HEADER = struct.Struct(">BxxxL")  # a frame of the multiplexed stream: stream (1 stdout, 2 stderr), 3 zero bytes, size


@dataclass(frozen=True)
class Exec:
    """A command that ran in a container: its exit code and what it wrote."""

    exit_code: int
    stdout: bytes
    stderr: bytes


def answer(container: str, argv: Sequence[str], chunks: Iterable[Chunk], inspected: Mapping[str, Any]) -> Exec:
    """The exec from its streamed output and its inspect data; CommandNotStarted when no process started."""
    out, err = bytearray(), bytearray()
    for stdout, stderr in chunks:
        out += stdout or b""
        err += stderr or b""
    if not inspected.get("Pid"):
        detail = bytes(out + err).decode(errors="replace").strip() or "no process"
        shown = argv[0] if argv else ""
        raise CommandNotStarted(
            f"cannot run `{shown} …` in container {container}: {detail}",
            f"the image of {container} must have `{shown}` on its PATH and executable by the container's user",
            container=container,
            argv=list(argv),
            detail=detail,
        )
    return Exec(int(inspected["ExitCode"]), bytes(out), bytes(err))


def run(container: Container, argv: Sequence[str]) -> Exec:
    """Run `argv` in `container` as its user, to its end; ExecRefused when the container is not running."""
    api, name = container.client.api, container.name or container.id or ""
    try:
        exec_id = api.exec_create(container.id, list(argv))["Id"]
        chunks = list(output(api, exec_id))
        return answer(name, argv, chunks, api.exec_inspect(exec_id))
    except docker.errors.APIError as exc:  # 409: not running, restarting or paused; 404: gone
        detail = str(exc.explanation or exc)
        raise ExecRefused(
            f"cannot run `{argv[0] if argv else ''} …` in container {name}: {detail}",
            f"`docker ps -a --filter name={name}` shows its state, `docker logs {name}` why it stopped",
            container=name,
            argv=list(argv),
            detail=detail,
        ) from exc


def output(api: APIClient, exec_id: str) -> Iterator[Chunk]:
    """Start the exec and read its multiplexed output to its end, frame by frame, through the response's buffer."""
    url, upgrade = api._url("/exec/{0}/start", exec_id), {"Connection": "Upgrade", "Upgrade": "tcp"}
    response = api._post_json(url, headers=upgrade, data={"Tty": False, "Detach": False}, stream=True)
    api._raise_for_status(response)
    try:
        buffered = response.raw._fp.fp  # the upgraded connection, what the HTTP response read of it first included
        while len(header := buffered.read(HEADER.size)) == HEADER.size:
            stream, size = HEADER.unpack(header)
            data = buffered.read(size)
            yield (data, None) if stream == 1 else (None, data)
    finally:
        with contextlib.suppress(BrokenPipeError):  # over ssh closing writes to an `ssh` that may have exited
            response.close()
