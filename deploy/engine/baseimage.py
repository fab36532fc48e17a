"""The Dockerfile's base image: which one, and building one offline.

Operators with a registry use a standard Python image (TRADEBOT_BASE_IMAGE, or
python:3.11-slim when present). Where no registry can be reached, `./bootstrap`
builds `tradebot-base:bookworm` offline: debootstrap makes a minimal Debian
root with python3, coreutils and procps (the tests' testinfra oracle hashes
files and lists processes with them), and `docker import` turns it into an image.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from deploy.config import DEFAULT_BASE_IMAGES, OFFLINE_BASE_IMAGE, Settings
from deploy.engine.runner import Runner
from deploy.errors import CommandFailed, ImageError

SUITE = "bookworm"
PACKAGES = ("python3", "procps")


@dataclass(frozen=True)
class BasePlan:
    """`use` an image already present, else try to `pull` it, else (defaults only) build offline."""

    image: str
    present: bool
    offline_fallback: bool


def plan_base(configured: str | None, present: set[str]) -> BasePlan:
    if configured:
        return BasePlan(configured, configured in present, offline_fallback=False)
    for image in DEFAULT_BASE_IMAGES:
        if image in present:
            return BasePlan(image, True, offline_fallback=False)
    return BasePlan(DEFAULT_BASE_IMAGES[0], False, offline_fallback=True)


def present_images(engine: docker.DockerClient, names: tuple[str, ...]) -> set[str]:
    found = set()
    for name in names:
        try:
            engine.images.get(name)
            found.add(name)
        except docker.errors.ImageNotFound:
            pass
    return found


def resolve(settings: Settings, engine: docker.DockerClient) -> str:
    """The base image a build uses; refuses when none is there (the build must not pull)."""
    candidates = (settings.base_image,) if settings.base_image else DEFAULT_BASE_IMAGES
    plan = plan_base(settings.base_image, present_images(engine, candidates))
    if not plan.present:
        raise ImageError(f"base image {plan.image} is not present on the engine", "run `./bootstrap`")
    return plan.image


def ensure(settings: Settings, engine: docker.DockerClient, runner: Runner) -> str:
    """The base image, present, pulled, or built offline (debootstrap's output kept in `offline_log`); one line said."""
    candidates = (settings.base_image,) if settings.base_image else DEFAULT_BASE_IMAGES
    plan = plan_base(settings.base_image, present_images(engine, candidates))
    if plan.present:
        print(f"base image: {plan.image} is present")
        return plan.image
    try:
        engine.images.pull(plan.image)
        print(f"base image: pulled {plan.image}")
        return plan.image
    except docker.errors.APIError as exc:
        if not plan.offline_fallback:
            raise ImageError(f"base image {plan.image} cannot be pulled ({exc.explanation})") from exc
    log = offline_log(settings)
    build_offline(engine, runner, log)
    print(f"base image: {plan.image} cannot be pulled; built {OFFLINE_BASE_IMAGE} offline (debootstrap's log: {log})")
    return OFFLINE_BASE_IMAGE


def offline_log(settings: Settings) -> Path:
    """Where debootstrap's output goes (hundreds of lines nobody needs unless it fails)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings.home / "debootstrap.log"


def build_offline(engine: docker.DockerClient, runner: Runner, log: Path) -> None:
    if not shutil.which("debootstrap"):
        raise ImageError("debootstrap is not installed", "install Debian's debootstrap package (./bootstrap does)")
    with tempfile.TemporaryDirectory(prefix="tradebot-base-") as tmp:
        root = Path(tmp) / "root"
        log.write_text(f"debootstrap {SUITE} with {', '.join(PACKAGES)}\n")
        try:
            runner.run(debootstrap_argv(root), log=log)
        except CommandFailed as exc:
            raise ImageError(
                f"debootstrap failed: {exc.message}", f"read {log}; check the machine's Debian mirror"
            ) from exc
        slim_root(root)
        archive = Path(tmp) / "root.tar"
        runner.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(archive), "."])
        repository, tag = OFFLINE_BASE_IMAGE.split(":")
        engine.api.import_image_from_file(str(archive), repository=repository, tag=tag, changes=['CMD ["python3"]'])


def debootstrap_argv(root: Path) -> list[str]:
    return ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(root)]


def slim_root(root: Path) -> None:
    """Drop apt's caches and lists (they name the mirror and weigh ~100 MB); add `python`."""
    for leftovers in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (root / leftovers).glob("*"):
            if entry.is_file():
                entry.unlink()
    python = root / "usr/bin/python"
    if not python.exists():
        python.symlink_to("python3")
