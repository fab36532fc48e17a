"""Helper and probe containers: throw-away containers a command makes on the engine, none outliving its creator.

Every one (volume copies, preflight checks, meta-volume readers, verify's image probe, rebuild
helpers) is labelled by `labels`: the project (`HELPER_OF`) and its creator (this machine's
hostname and the pid of the invoke process). Its creator removes it when done. `auto_remove`
cannot serve any of them: the creator reads the output or the exit code after it ends, or never
starts it (only its archive API is used). A creator killed on the way leaves it behind, where it
could keep a volume in use; so:

- every invoke command except a `--plan` first removes the helpers of its deployment whose creator
  ran on this machine and is gone (`sweep`): a creator still running keeps its helpers;
- a command holding the deploy lock removes all but those whose creator still runs here
  (`sweep(everyone=True)`): one left by a dead run on another machine can be told only so.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Mapping

import docker
import docker.errors

from deploy.config import Settings

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
    for container in engine.containers.list(all=True, filters={"label": f"{HELPER_OF}={settings.project}"}):
        if leftover(container.labels, host, pid_alive, everyone):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
                removed.append(container.name)
    return removed
