"""Helper containers: throw-away containers a command makes on the engine, none outliving its creator.

The one way to make one: `idle` (created, never started: only its archive API is used — meta-volume
readers, verify's look at an image's filesystem) or `run` (started, waited for, its output read —
volume copies, preflight checks, the rebuild's probe). Neither has a network. Every one is labelled
by `labels`: the project (`HELPER_OF`) and its creator (this machine's hostname and the pid of the
invoke process), and its creator removes it when done. `auto_remove` cannot serve any of them: the
creator reads the output or the exit code after it ends, or never starts it. A creator killed on the
way leaves it behind, where it could keep a volume in use; so:

- every invoke command except a `--plan` first removes the helpers of its deployment whose creator
  ran on this machine and is gone (`sweep`): a creator still running keeps its helpers;
- a command holding the deploy lock removes all but those whose creator still runs here
  (`sweep(everyone=True)`): one left by a dead run on another machine can be told only so.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from deploy.config import Settings
from deploy.engine import archive
from deploy.errors import CommandFailed

Mounts = Mapping[str, tuple[str, str]]  # volume name → (path in the helper, "ro" or "rw")
FILES_AT = "/tradebot-helper"  # where `run` puts the files it is given

HELPER_OF = "io.tradebot.helper-of"
HOST, PID = f"{HELPER_OF}.host", f"{HELPER_OF}.pid"


def labels(project: str) -> dict[str, str]:
    """The labels of a helper of `project` made by this process."""
    return {HELPER_OF: project, HOST: socket.gethostname(), PID: str(os.getpid())}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def leftover(found: Mapping[str, str], host: str, alive: Callable[[int], bool], everyone: bool) -> bool:
    """Whether a helper with the labels `found` is to be removed (see the module docstring; pure)."""
    pid = found.get(PID, "")
    here = found.get(HOST) == host and pid.isdigit()
    if here:
        return not alive(int(pid))
    return everyone


def sweep(settings: Settings, engine: docker.DockerClient, everyone: bool = False) -> list[str]:
    """Remove the helpers of this deployment that a killed command left; their names."""
    host, removed = socket.gethostname(), []
    for container in engine.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{HELPER_OF}={settings.project}"}
    ):
        if leftover(container.labels, host, pid_alive, everyone):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
                removed.append(container.name)
    return removed


@dataclass(frozen=True)
class Ran:
    """A helper that ran to its end: its exit code and what it wrote."""

    exit_code: int
    stdout: bytes
    stderr: bytes

    def checked(self, what: Sequence[str]) -> Ran:
        """Itself when it exited 0; else CommandFailed naming `what` ran (its argv, or the script and arguments)."""
        if self.exit_code != 0:
            raise CommandFailed(what, self.exit_code, self.stderr.decode(errors="replace"))
        return self


def _volumes(mounts: Mounts) -> dict[str, dict[str, str]]:
    return {name: {"bind": path, "mode": mode} for name, (path, mode) in mounts.items()}


def at_root(modes: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """`{volume: mode}` mounted at `/<volume>` each."""
    return {name: (f"/{name}", mode) for name, mode in modes.items()}


@contextlib.contextmanager
def idle(
    engine: docker.DockerClient,
    image: str,
    project: str,
    mounts: Mounts | None = None,
    marks: Mapping[str, str] | None = None,
    name: str = "",
) -> Iterator[Container]:
    """A helper with `mounts` and the labels `marks`, created, never started (only its archive API is used), removed.

    `image` is one already on the engine (nothing is pulled).
    """
    helper = engine.containers.create(
        image,
        ["true"],
        name=name or None,
        volumes=_volumes(mounts or {}),
        network_disabled=True,
        labels={**(marks or {}), **labels(project)},
    )
    try:
        yield helper
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            helper.remove(force=True, v=True)  # an image may declare a VOLUME: its anonymous volume goes too


def run(
    engine: docker.DockerClient,
    image: str,
    project: str,
    *,
    command: Sequence[str] = (),
    entrypoint: Sequence[str] | None = None,
    mounts: Mounts | None = None,
    user: str = "",
    environment: Mapping[str, str] | None = None,
    files: Mapping[str, bytes] | None = None,
    working_dir: str = "",
    **options: Any,
) -> Ran:
    """Run a helper of `image` to its end (`files` put in `FILES_AT` first) and remove it; what it did.

    `options`: further `containers.create` options (a side container's PID namespace, capabilities, read-only root).
    """
    helper = engine.containers.create(
        image,
        list(command) or None,
        entrypoint=list(entrypoint) if entrypoint else None,
        user=user or None,
        volumes=_volumes(mounts or {}),
        environment=dict(environment or {}),
        network_disabled=True,
        labels=labels(project),
        working_dir=working_dir or None,
        **options,
    )
    try:
        if files:
            helper.put_archive("/", archive.pack({f"{FILES_AT.lstrip('/')}/{n}": c for n, c in files.items()}))
        helper.start()
        code = int(helper.wait().get("StatusCode", 1))
        return Ran(code, helper.logs(stdout=True, stderr=False), helper.logs(stdout=False, stderr=True))
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            helper.remove(force=True, v=True)


def unique_name(project: str, role: str) -> str:
    """`<project>-<role>-<8 hex>`: a helper's name, when it needs one."""
    return f"{project}-{role}-{uuid.uuid4().hex[:8]}"
