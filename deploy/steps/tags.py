"""Release images on the engine: looking them up, moving the live and previous tags, pruning old ones.

The decisions (which tag, which images go) and the `ReleaseImage` type are in
`deploy.steps.images`; this module only asks the engine and applies them.

Only a recorded image (`deploy.records.builds`: the pipeline built that very id for that commit)
is deployed (`of_commit`), rolled back to (`recorded`), tagged `:previous` (`promote`) or counted by
retention (`prune`); any other image carrying release labels is foreign: `ForeignImage` (exit 5)
where one is asked for, named and left alone (it is evidence) where one is found.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import docker
import docker.errors

from deploy.config import Settings
from deploy.errors import DirtyImage, ForeignImage, ImageMissing
from deploy.ids import short
from deploy.records import builds, ledger
from deploy.records.view import EngineRecords, Records
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
    return ReleaseImage.of(image)


def known(settings: Settings, engine: docker.DockerClient, records: Records | None = None) -> list[builds.Build]:
    """The build records, and one for each image the ledger shows released before records existed (`adopted`).

    `records`: the command's records (`deploy.records.view`), which read them once; else they are read here.
    """
    records = records or EngineRecords(settings, engine)
    found, entries = records.builds(), records.entries()
    released = [e for e in entries if e.is_release]
    adopted = {(e.commit, e.image_id) for e in released if e.image_id and builds.of_image(found, e.image_id) is None}
    return [*found, *(builds.Build(commit, image_id, (), adopted=True) for commit, image_id in sorted(adopted))]


def recorded(
    settings: Settings, engine: docker.DockerClient, image: ReleaseImage, ref: str, records: Records | None = None
) -> ReleaseImage:
    """`image` (found as `ref`) when the pipeline built it for its commit; else `ForeignImage`."""
    found = known(settings, engine, records)
    record = builds.of_image(found, image.image_id)
    if record is None or record.commit != image.commit:
        raise foreign_image(ref, image, builds.of_commit(found, image.commit))
    return image


def foreign_image(ref: str, image: ReleaseImage, of_its_commit: list[builds.Build]) -> ForeignImage:
    built = ", ".join(short(b.image_id) for b in of_its_commit) or "none"
    return ForeignImage(
        f"{ref} is image {short(image.image_id)}, which this pipeline never built for {short(image.commit)} "
        f"(its recorded builds: {built}); it is not deployed",
        f"look at it (`docker image inspect {short(image.image_id)}`); `docker image rm {ref}` "
        f"and `invoke build --rev {short(image.commit)}` to build the release again",
        ref=ref,
        image_id=image.image_id,
        commit=image.commit,
        recorded=[b.image_id for b in of_its_commit],
    )


def of_commit(
    settings: Settings, engine: docker.DockerClient, commit: str, force: bool, records: Records | None = None
) -> ReleaseImage:
    """The release image built from `commit`: the clean one, else the dirty one when `force` (`records`: as in
    `known`)."""
    clean_tag = images.release_tag(settings.image_repo, commit, dirty=False)
    clean = get(engine, clean_tag)
    if clean and not clean.dirty:
        return recorded(settings, engine, clean, clean_tag, records)
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
    return recorded(settings, engine, dirty, dirty_tag, records)


def live_tags(settings: Settings, engine: docker.DockerClient) -> LiveTags:
    return LiveTags(get(engine, settings.live_image), get(engine, settings.previous_image))


def promote(
    settings: Settings,
    engine: docker.DockerClient,
    target: ReleaseImage,
    before: LiveTags,
    records: Records | None = None,
) -> str:
    """Tag `target` live; the release that was live becomes previous (unless it is the same image or foreign).

    A foreign `:live` never becomes `:previous` (a plain rollback would make it live): it is named, and that is
    what the step says; "" when the tags moved as the step's name says. `records`: as in `known`.
    """
    engine.images.get(target.image_id).tag(settings.image_repo, "live")
    was = before.live
    if was is None or was.image_id == target.image_id:
        return ""
    if builds.of_image(known(settings, engine, records), was.image_id) is None:
        return f"{settings.live_image} was {short(was.image_id)}, not built by this pipeline: not tagged previous"
    engine.images.get(was.image_id).tag(settings.image_repo, "previous")
    return ""


def restore(settings: Settings, engine: docker.DockerClient, before: LiveTags) -> None:
    """Point live and previous back where they were."""
    for tag, image in (("live", before.live), ("previous", before.previous)):
        if image:
            engine.images.get(image.image_id).tag(settings.image_repo, tag)
        else:
            with contextlib.suppress(docker.errors.ImageNotFound):
                engine.images.remove(f"{settings.image_repo}:{tag}", noprune=True)


def prune(settings: Settings, engine: docker.DockerClient, say: Callable[[str], None], records: Records) -> list[str]:
    """Untag the release images retention lets go (`images.prune_candidates`); an image in use by a container stays.

    `records`: the ledger, whose attempts tell which images went live and which only failed, and the builds.
    """
    found = engine.images.list(name=settings.image_repo)
    found.sort(key=lambda image: images.created_at(image.attrs["Created"]), reverse=True)
    releases = [ReleaseImage.of(image) for image in found]
    entries = records.entries()
    foreign = images.unrecorded(releases, {b.image_id for b in known(settings, engine, records)})
    if foreign:
        named = ", ".join(f"{short(i.image_id)} ({', '.join(i.tags) or 'untagged'})" for i in foreign)
        say(f"prune: kept images not built by this pipeline, as evidence: {named}")
    removed = []
    tried = ledger.tried(entries)
    ours = [image for image in releases if image not in foreign]
    for tag in images.prune_candidates(ours, settings.image_repo, settings.keep_releases, tried):
        try:
            engine.images.remove(tag)
            removed.append(tag)
        except docker.errors.APIError as exc:
            say(f"prune: kept {tag} ({exc.explanation})")
    if removed:
        say(f"prune: removed {', '.join(removed)}")
    return removed
