"""The deployment's own records, kept on the engine: the volume `<project>_meta`, reached only through the Docker API.

    <project>_meta                      labelled io.tradebot.meta-of=<project>
    ├── ledger/<id>.json                one file per attempt, written once, never rewritten
    ├── reports/<id>.json               that attempt's release report (the same <id>)
    └── releases/<attempt>.json         what a rollback needs of a release that went live (`releases`)

Rules:
- Files go in and out with the archive API (`put_archive` / `get_archive`) of an idle helper
  container (`deploy.engine.helpers.idle`) of the base image: no host path, no network,
  nothing pulled, so `DOCKER_HOST=ssh://…` works alike.
- Writing only adds files under new names, with one exception: a report is written again
  once its attempt's last step has run (it then holds every step; its ledger entry is never
  rewritten). Nothing here deletes a file. Files written in one call arrive in one archive
  (an entry and its report together).
- Reading a meta volume that does not exist yet gives nothing and creates nothing
  (status and plans stay read-only).
- While a command holds the deploy lock (`deploy.steps.lock`), every read and write goes through
  the lock's container, which mounts the meta volume (`through`): a deploy reads and writes
  here five times, and a helper's create and remove cost about as much as its archive call.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors
from docker.models.containers import Container

from deploy.config import Settings
from deploy.engine import archive, baseimage, helpers

META_OF = "io.tradebot.meta-of"

# project → the container the meta volume is reached through while a command holds the deploy lock
_THROUGH: dict[str, Container] = {}
_THROUGH_LOCK = threading.Lock()


def exists(settings: Settings, engine: docker.DockerClient) -> bool:
    try:
        engine.volumes.get(settings.meta_volume)
    except docker.errors.NotFound:
        return False
    return True


def mounts(settings: Settings) -> dict[str, dict[str, str]]:
    """The `volumes` argument of a container the meta volume is reached through (`through`)."""
    return {settings.meta_volume: {"bind": f"/{settings.meta_volume}", "mode": "rw"}}


@contextlib.contextmanager
def through(settings: Settings, container: Container) -> Iterator[None]:
    """In the block, this process reaches the project's meta volume through `container`, if it mounts it (`mounts`).

    A container that does not mount it (the volume did not exist when it was made) changes nothing.
    """
    if not any(mount.get("Name") == settings.meta_volume for mount in container.attrs.get("Mounts") or ()):
        yield
        return
    with _THROUGH_LOCK:
        _THROUGH[settings.project] = container
    try:
        yield
    finally:
        with _THROUGH_LOCK:
            _THROUGH.pop(settings.project, None)


def write(settings: Settings, engine: docker.DockerClient, files: Mapping[str, bytes]) -> None:
    """Add `files` (relative path → content) to the meta volume, creating the volume when missing.

    A lock container removed meanwhile (by hand, or by `invoke unlock`) is given up, and a helper of
    its own writes instead: a record is never lost with the container it was to go through.
    """
    if not exists(settings, engine):
        engine.volumes.create(settings.meta_volume, labels={META_OF: settings.project})
    try:
        with _reach(settings, engine, "rw") as helper:
            helper.put_archive(f"/{settings.meta_volume}", archive.pack(files))
    except docker.errors.NotFound:
        if not _give_up_through(settings):
            raise
        with _reach(settings, engine, "rw") as helper:
            helper.put_archive(f"/{settings.meta_volume}", archive.pack(files))


def _exists(container: Container) -> bool:
    try:
        container.reload()
    except docker.errors.NotFound:
        return False
    return True


def _give_up_through(settings: Settings) -> bool:
    """Stop reaching the meta volume through a container (it is gone); whether there was one."""
    with _THROUGH_LOCK:
        return _THROUGH.pop(settings.project, None) is not None


def read_folder(settings: Settings, engine: docker.DockerClient, folder: str) -> dict[str, bytes]:
    """Every file below `folder` of the meta volume by its name there; empty when there is none."""
    return read_folders(settings, engine, (folder,))[folder]


def read_file(settings: Settings, engine: docker.DockerClient, path: str) -> bytes | None:
    """The file `path` of the meta volume (one archive call), None when there is none."""
    if settings.project not in _THROUGH and not exists(settings, engine):
        return None
    with _reach(settings, engine, "ro") as helper:
        return next(iter(archive.fetch(helper, f"/{settings.meta_volume}/{path}").values()), None)


def read_folders(
    settings: Settings, engine: docker.DockerClient, folders: Sequence[str]
) -> dict[str, dict[str, bytes]]:
    """`read_folder` of each of `folders`, through one helper, the archives read at the same time."""
    if settings.project not in _THROUGH and not exists(settings, engine):
        return {folder: {} for folder in folders}
    with _reach(settings, engine, "ro") as helper, ThreadPoolExecutor(len(folders)) as pool:
        read = {folder: pool.submit(archive.fetch, helper, f"/{settings.meta_volume}/{folder}") for folder in folders}
        return {folder: future.result() for folder, future in read.items()}


@contextlib.contextmanager
def _reach(settings: Settings, engine: docker.DockerClient, mode: str) -> Iterator[Container]:
    """The container of `through` while there is one, else a helper of its own mounting the volume as `mode`.

    A lock container removed meanwhile is given up first: an archive read through it would find nothing, and
    nothing is not what the meta volume holds (the build records, the ledger).
    """
    with _THROUGH_LOCK:
        held = _THROUGH.get(settings.project)
    if held is not None and _exists(held):
        yield held
        return
    if held is not None:
        _give_up_through(settings)
    image, name = baseimage.resolve(settings, engine), helpers.unique_name(settings.project, "meta")
    mounts = helpers.at_root({settings.meta_volume: mode})
    with helpers.idle(engine, image, settings.project, mounts, {META_OF: settings.project}, name) as helper:
        yield helper
