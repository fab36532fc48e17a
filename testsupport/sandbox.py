"""A throw-away deployment: its own repository, project, images and volumes.

`Sandbox.create` copies a checkout's Dockerfile, docker-compose.yml and trading/
into a fresh repository and commits them; `remove` deletes every container,
network, volume and image the project made on the engine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine import baseimage
from deploy.engine import client as engine_client
from deploy.engine.helpers import HELPER_OF
from deploy.steps import images

COPIED = ("Dockerfile", "docker-compose.yml", "trading", "volumes")


def quiet(_: str) -> None:
    """A `say` that prints nothing."""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def start_stall(environ: Mapping[str, str] = os.environ) -> float:
    """The host's `TRADEBOT_START_STALL` (or its deprecated alias) when it sets one, never shorter than the default.

    A loaded machine (CI, other tests) may want a longer stall, never a shorter one: a release meant to
    succeed gets at least what an operator's gets. A test of a release meant to fail may shorten it.
    """
    limits = {name: value for name, value in environ.items() if name.startswith("TRADEBOT_START_")}
    return max(Settings.from_env(limits).start_stall, Settings().start_stall)


@dataclass
class Sandbox:
    repo: Path
    settings: Settings
    engine: docker.DockerClient

    @classmethod
    def create(cls, source: Path, tmp: Path, project: str, base_image: str, engine: docker.DockerClient) -> Sandbox:
        """A repository under `tmp` with one commit of `source`'s (a checkout's) release files."""
        repo = tmp / "repo"
        repo.mkdir()
        for name in COPIED:
            found = source / name
            if found.is_dir():
                shutil.copytree(found, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(found, repo / name)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.email", "test@tradebot.invalid")
        git(repo, "config", "user.name", "tradebot test")
        (repo / ".gitignore").write_text(".tradebot/\n")
        settings = Settings(
            project=project, repo=repo, home=repo / ".tradebot", base_image=base_image, start_stall=start_stall()
        )
        sandbox = cls(repo, settings, engine)
        sandbox.commit("initial release")
        return sandbox

    def write(self, relpath: str, content: str) -> None:
        path = self.repo / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)

    def commit(self, message: str, files: dict[str, str] | None = None) -> str:
        for relpath, content in (files or {}).items():
            self.write(relpath, content)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.repo, "rev-parse", "HEAD")

    def in_volume(self, volume: str, script: str) -> str:
        """Run `script` in a throw-away container of the base image with `volume` at /v; its output."""
        output = self.engine.containers.run(
            self.settings.base_image or "",
            ["sh", "-c", script],
            volumes={volume: {"bind": "/v"}},
            network_disabled=True,
            remove=True,
        )
        return output.decode()

    def volume_files(self, volume: str) -> list[str]:
        """The names at the top of `volume`."""
        return self.in_volume(volume, "ls -A /v").split()

    def environ(self) -> dict[str, str]:
        """The variables an operator's shell sets to run `invoke` against this sandbox's deployment."""
        settings = self.settings
        return {
            "TRADEBOT_PROJECT": settings.project,
            "TRADEBOT_REPO": str(settings.repo),
            "TRADEBOT_HOME": str(settings.home),
            "TRADEBOT_BASE_IMAGE": settings.base_image or "",
            "TRADEBOT_START_STALL": f"{settings.start_stall:.0f}",
        }

    def remove(self) -> None:
        project = self.settings.project
        label = {"label": f"com.docker.compose.project={project}"}
        helpers = {"label": f"{HELPER_OF}={project}"}  # a helper or probe whose creator the test killed
        # a container may go while listed or before its removal (the engine finishing a killed command's removal)
        for filters in (label, helpers):
            for container in self.engine.containers.list(all=True, filters=filters, ignore_removed=True):
                with contextlib.suppress(docker.errors.NotFound):
                    container.remove(force=True, v=True)
        # by name: listing every container of the shared engine races with other tests' short-lived helpers
        for container in self.engine.containers.list(all=True, filters={"name": project}, ignore_removed=True):
            if container.name.startswith(project):
                with contextlib.suppress(docker.errors.NotFound):
                    container.remove(force=True, v=True)
        for network in self.engine.networks.list(filters=label):
            network.remove()
        for volume in self.engine.volumes.list():
            if volume.name.startswith(f"{project}_") or volume.name.startswith(f"{project}-"):
                with contextlib.suppress(docker.errors.APIError):
                    volume.remove(force=True)
        for image in self.engine.images.list(name=self.settings.image_repo):
            for tag in images.own_tags(image.tags, self.settings.image_repo):  # never a parallel test's of the image
                with contextlib.suppress(docker.errors.ImageNotFound):
                    # its untagged parents stay: a parallel test may be building on them (every sandbox's first
                    # commit builds the same layers), and pruning them failed its build ("unknown parent image ID")
                    self.engine.images.remove(tag, force=True, noprune=True)


@contextlib.contextmanager
def throwaway(source: Path, prefix: str) -> Iterator[tuple[Sandbox, str]]:
    """A sandbox of `source` as project `<prefix><6 hex>` and the base image; removed at the end, also on failure."""
    client = engine_client.connect()
    base = baseimage.resolve(Settings.from_env({}), client)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
        box = Sandbox.create(source, Path(tmp), f"{prefix}{uuid.uuid4().hex[:6]}", base, client)
        try:
            yield box, base
        finally:
            box.remove()
