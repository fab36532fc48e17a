"""Fixtures for tests against the real Docker engine and Compose.

Every test gets its own names (`unique_name`) and removes what it made. The
base image is built once per machine by `./bootstrap`; `worktree_image` is
built once per session and shared by tests that only need *an* image of the
current code.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from deploy.config import Settings
from deploy.engine import baseimage, client
from deploy.steps import buildcontext
from testsupport.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    return client.connect()


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    return baseimage.resolve(Settings.from_env({}), docker_client)


FAST_TICKS = {"TRADEBOT_TICK_SECONDS": "0.2", "TRADEBOT_WORKER_POLL_SECONDS": "0.2"}


def unique() -> str:
    """`tradebot-t<8 hex>`: a compose project, image repository and volume prefix of its own."""
    return f"tradebot-t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def unique_name() -> str:
    return unique()


def worktree_context() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(ROOT / "Dockerfile", arcname="Dockerfile")
        archive.add(
            ROOT / "trading",
            arcname=buildcontext.CODE_PREFIX,
            filter=lambda info: None if "__pycache__" in info.name or info.name.endswith(".pyc") else info,
        )
    return buffer.getvalue()


@pytest.fixture(scope="session")
def worktree_image(docker_client: docker.DockerClient, base_image: str) -> Iterator[str]:
    """An image of the working tree's Dockerfile and trading/ (not a release: no commit, no labels)."""
    tag = f"tradebot-test-worktree:{uuid.uuid4().hex[:8]}"
    docker_client.images.build(
        fileobj=io.BytesIO(worktree_context()),
        custom_context=True,
        tag=tag,
        buildargs={"BASE_IMAGE": base_image},
        rm=True,
        forcerm=True,
    )
    yield tag
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(tag, force=True)


@pytest.fixture
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compose passes the invoking environment to the services: tick fast so health comes quickly."""
    for name, value in FAST_TICKS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def sandbox(tmp_path: Path, unique_name: str, base_image: str, docker_client: docker.DockerClient) -> Iterator[Sandbox]:
    """A fresh repository with one commit, deployable as project `unique_name`; removed afterwards."""
    box = Sandbox.create(ROOT, tmp_path, unique_name, base_image, docker_client)
    yield box
    box.remove()


@pytest.fixture(scope="module")
def module_sandbox(
    tmp_path_factory: pytest.TempPathFactory, base_image: str, docker_client: docker.DockerClient
) -> Iterator[Sandbox]:
    """One sandbox for a module whose tests share a costly setup, fast ticks set for it; removed at its end."""
    box = Sandbox.create(ROOT, tmp_path_factory.mktemp("module"), unique(), base_image, docker_client)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAST_TICKS.items():
            patch.setenv(name, value)
        try:
            yield box
        finally:
            box.remove()
