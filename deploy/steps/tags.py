"""Release images on the engine: looking them up, moving the live and previous tags, pruning old ones.

The decisions (which tag, which images go) and the `ReleaseImage` type are in
`deploy.steps.images`; this module only asks the engine and applies them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import docker
import docker.errors

from deploy.config import Settings
from deploy.errors import DirtyImage, ImageMissing
from deploy.ids import short
from deploy.records import ledger
from deploy.steps import images
from deploy.steps.images import ReleaseImage


@dataclass(frozen=True)
class LiveTags:
    """Which release images `:live` and `:previous` point at (None: the tag does not exist)."""

    live: ReleaseImage | None
    previous: ReleaseImage | None


def get(engine: docker.DockerClient, ref: str) -> ReleaseImage | None:
    try:
        image = engine.images.get(ref)
    except docker.errors.ImageNotFound:
        return None
    return ReleaseImage.from_labels(image.id, image.labels, image.tags)


def of_commit(settings: Settings, engine: docker.DockerClient, commit: str, force: bool) -> ReleaseImage:
    """The release image built from `commit`: the clean one, else the dirty one when `force`."""
    clean = get(engine, images.release_tag(settings.image_repo, commit, dirty=False))
    if clean and not clean.dirty:
        return clean
    dirty_tag = images.release_tag(settings.image_repo, commit, dirty=True)
    dirty = clean or get(engine, dirty_tag)
    if dirty is None:
        raise ImageMissing(
            f"image {settings.release_image(commit)} is not on the engine",
            f"run `invoke build --rev {short(commit)}` first",
        )
    if not force:
        raise DirtyImage(
            f"{dirty_tag} was built from a dirty working tree",
            "commit the changes and build again, or deploy it anyway with --force",
        )
    return dirty


def live_tags(settings: Settings, engine: docker.DockerClient) -> LiveTags:
    return LiveTags(get(engine, settings.live_image), get(engine, settings.previous_image))


def promote(settings: Settings, engine: docker.DockerClient, target: ReleaseImage, before: LiveTags) -> None:
    """Tag `target` live; the release that was live becomes previous (unless it is the same image)."""
    if before.live and before.live.image_id != target.image_id:
        engine.images.get(before.live.image_id).tag(settings.image_repo, "previous")
    engine.images.get(target.image_id).tag(settings.image_repo, "live")


def restore(settings: Settings, engine: docker.DockerClient, before: LiveTags) -> None:
    """Point live and previous back where they were."""
    for tag, image in (("live", before.live), ("previous", before.previous)):
        if image:
            engine.images.get(image.image_id).tag(settings.image_repo, tag)
        else:
            with contextlib.suppress(docker.errors.ImageNotFound):
                engine.images.remove(f"{settings.image_repo}:{tag}", noprune=True)


def prune(
    settings: Settings, engine: docker.DockerClient, say: Callable[[str], None], entries: Iterable[ledger.Entry]
) -> list[str]:
    """Untag the release images retention lets go (`images.prune_candidates`); an image in use by a container stays.

    `entries`: the ledger, whose attempts tell which images went live and which only failed.
    """
    found = engine.images.list(name=settings.image_repo)
    found.sort(key=lambda image: images.created_at(image.attrs["Created"]), reverse=True)
    releases = [ReleaseImage.from_labels(image.id, image.labels, image.tags) for image in found]
    removed = []
    tried = ledger.tried(entries)
    for tag in images.prune_candidates(releases, settings.image_repo, settings.keep_releases, tried):
        try:
            engine.images.remove(tag)
            removed.append(tag)
        except docker.errors.APIError as exc:
            say(f"prune: kept {tag} ({exc.explanation})")
    if removed:
        say(f"prune: removed {', '.join(removed)}")
    return removed
