"""Throw-away helper containers that do the volume work, through the Docker API only (never host paths).

A helper runs as root, without network, from an image already on the engine (never pulled),
with the volumes it needs mounted (legacy and backups read-only). `probe.py` is copied into it
with `put_archive`, so the same code works against a remote engine (`DOCKER_HOST`). Each helper
is labelled with the project and its creator; one its caller did not get to remove (a killed run)
is removed at the start of the next command (`deploy.engine.helpers.sweep`).
"""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import Mapping, Sequence
from importlib import resources

import docker
import docker.errors

from deploy.engine import helpers
from deploy.errors import CommandFailed

DIR = "/tradebot-helper"
RO = "ro"
RW = "rw"


def probe_argv(*args: str) -> list[str]:
    return ["python3", f"{DIR}/probe.py", *args]


def archive(files: Mapping[str, bytes]) -> bytes:
    """A tar of `files` ({name: content}) under DIR, for `put_archive` at `/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{DIR.lstrip('/')}/{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def probe_source() -> bytes:
    return resources.files("deploy.engine.scripts").joinpath("probe.py").read_bytes()


def run(
    engine: docker.DockerClient, image: str, project: str, argv: Sequence[str],
    mounts: Mapping[str, tuple[str, str]], files: Mapping[str, bytes] | None = None,
) -> str:  # fmt: skip
    """Run `argv` with `mounts` ({volume: (path, ro|rw)}) and probe.py plus `files` in DIR; its stdout.

    Raises CommandFailed with the helper's stderr when it exits non-zero.
    """
    volumes = {name: {"bind": path, "mode": mode} for name, (path, mode) in mounts.items()}
    container = engine.containers.create(
        image, entrypoint=list(argv), user="0:0", network_disabled=True, volumes=volumes,
        labels=helpers.labels(project), working_dir="/",
    )  # fmt: skip
    try:
        container.put_archive("/", archive({"probe.py": probe_source(), **(files or {})}))
        container.start()
        status = container.wait()["StatusCode"]
        if status != 0:
            raise CommandFailed(argv, status, container.logs(stdout=False, stderr=True).decode(errors="replace"))
        return container.logs(stdout=True, stderr=False).decode(errors="surrogateescape")
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
