"""A member's release image: built on its own engine, or loaded from a file another member's engine saved.

The member's side of a fleet release's first phase (each in the member's child). A build is
`deploy.procedures.build` (reused when the image exists). An engine that does not build (`build =
false` in the fleet file) gets the image saved from a member that built it, through a file on the
operator's machine (`save` there, `load` here) — by id, so no other project's tag comes along —
and tagged with its own project: the same image id, so the same code layer. Only a recorded image is
saved, its build record beside it (`<file>.build.json`); the loading member records that very build
(`deploy.records.builds`) once the image it loaded has the recorded id, so its deploy takes it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker

from deploy.config import Settings
from deploy.errors import ImageMissing
from deploy.output.progress import Say
from deploy.procedures import build as building
from deploy.records import builds
from deploy.steps import tags
from deploy.steps.images import ReleaseImage, release_tag

if TYPE_CHECKING:
    from deploy.engine.git import Repository

CHUNK = 1 << 20


def build(settings: Settings, engine: docker.DockerClient, repo: Repository, commit: str, say: Say) -> dict[str, Any]:
    """Build (or reuse) the commit's release image on the member's engine."""
    return described(settings, building.build(settings, engine, repo, rev=commit, say=say), "built")


def described(settings: Settings, image: ReleaseImage, how: str) -> dict[str, Any]:
    return {
        "ok": True,
        "how": how,
        "image": image.tag_in(settings.image_repo),
        "image_id": image.image_id,
        "code_layer": image.code_layer,
    }


def save(settings: Settings, engine: docker.DockerClient, commit: str, path: Path) -> dict[str, Any]:
    """Write the commit's release image (by id, without its tags) to `path`, its build record beside it."""
    image = _release(settings, engine, commit)
    record = builds.of_image(builds.read(settings, engine), image.image_id)
    if record is None:
        raise tags.foreign_image(image.tag_in(settings.image_repo), image, [])
    record_file(path).write_text(record.to_json())
    with path.open("wb") as out:
        for chunk in engine.images.get(image.image_id).save(chunk_size=CHUNK, named=False):
            out.write(chunk)
    return {**described(settings, image, "saved"), "bytes": path.stat().st_size}


def load(settings: Settings, engine: docker.DockerClient, commit: str, path: Path, source: str) -> dict[str, Any]:
    """Load the image saved in `path` (unless it is here), record its build and tag it for this project."""
    record = builds.Build.from_dict(json.loads(record_file(path).read_text()))
    present = tags.get(engine, release_tag(settings.image_repo, commit, dirty=False))
    if present is None:
        with path.open("rb") as saved:
            engine.images.load(saved)
    found = engine.images.get(present.image_id if present else record.image_id)
    image = ReleaseImage.of(found)
    if image.image_id != record.image_id or record.commit != commit:
        raise tags.foreign_image(f"the image {source} saved", image, [record])
    builds.write(settings, engine, dataclasses.replace(record, by=f"{record.by}, loaded from {source}"))
    found.tag(settings.image_repo, commit)
    return described(settings, _release(settings, engine, commit), "present" if present else f"loaded from {source}")


def record_file(path: Path) -> Path:
    """Where `save` puts the build record of the image it writes to `path`."""
    return path.with_name(f"{path.name}.build.json")


def _release(settings: Settings, engine: docker.DockerClient, commit: str) -> ReleaseImage:
    tag = release_tag(settings.image_repo, commit, dirty=False)
    found = tags.get(engine, tag)
    if found is None or found.commit != commit:
        raise ImageMissing(f"image {tag} is not on the engine", f"build it: `invoke build --rev {commit[:12]}`")
    return found
