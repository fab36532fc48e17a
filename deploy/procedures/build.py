"""`invoke build`: one release image per commit, built from the committed tree only.

The build context is made from the commit's git objects (`deploy.steps.buildcontext`), so
an uncommitted edit can never reach an image and the code layer is the same on
every engine. When the commit is HEAD and the
working tree differs in Dockerfile, docker-compose.yml or trading/, the build is
refused unless `allow_dirty`; such an image is labelled dirty and tagged
`<project>:<sha>-dirty` (its content is still the commit's).

Each image built is recorded (`deploy.records.builds`: its id and every layer, the base's included),
and only a recorded image is ever deployed. A commit whose image is already on the engine is reused
when it is the recorded one; a release tag on an image the pipeline never built is refused
(`ForeignImage`), unless the ledger shows that very image released for that commit (a release built
before records existed: it is recorded now).
"""

from __future__ import annotations

import dataclasses
import io

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine import baseimage
from deploy.engine.git import Commit, Repository
from deploy.errors import DirtyTree, first_of
from deploy.ids import short
from deploy.output import progress
from deploy.output.progress import Say
from deploy.records import builds, ledger
from deploy.records.view import EngineRecords
from deploy.steps import buildcontext, codelayer, images, tags
from deploy.steps.buildcontext import build_failed
from deploy.steps.images import ReleaseImage
from trading import codedigest


def build(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    rev: str = "HEAD",
    allow_dirty: bool = False,
    say: Say = print,
) -> ReleaseImage:
    """Build (or reuse) the release image of `rev`; raises DirtyTree, UnknownRevision, BuildFailed."""
    commit = repo.commit(rev)
    dirty = _dirty(repo, commit, allow_dirty)
    tag = images.release_tag(settings.image_repo, commit.sha, dirty)
    existing = tags.get(engine, tag)
    if existing:
        reused = _reused(settings, engine, existing, tag)
        say(f"build: {tag} exists ({short(existing.image_id)}, recorded); reusing it")
        return reused
    digest, describe = codedigest.digest(repo.code_files(commit.sha)), repo.describe(commit.sha)
    source = f"the committed tree of {describe}{' (working tree dirty)' if dirty else ''}"
    if progress.verbose(say):
        say(f"build: {tag} from {source} …")
    labels = _labels(repo, commit, describe, digest, dirty)
    base = baseimage.resolve(settings, engine)
    built = _run_build(engine, base, buildcontext.of(repo, commit.sha, labels), tag, say)
    builds.write(settings, engine, _record(engine, built, base))
    say(f"build: {tag} is {short(built.image_id)} (code digest {short(digest)}), from {source}, recorded")
    return built


def _record(engine: docker.DockerClient, built: ReleaseImage, base: str) -> builds.Build:
    return builds.Build(
        built.commit,
        built.image_id,
        built.layers,
        base_ref=base,
        base_id=engine.images.get(base).id,
        code_layer=built.code_layer,
        dirty=built.dirty,
        built_at=ledger.now(),
        by=ledger.operator(),
    )


def _reused(settings: Settings, engine: docker.DockerClient, existing: ReleaseImage, tag: str) -> ReleaseImage:
    """`existing` when it is recorded; recorded now when the ledger shows it released; else `ForeignImage`."""
    records = EngineRecords(settings, engine)  # the builds and the ledger, read once
    if builds.of_image(records.builds(), existing.image_id) is not None:
        return tags.recorded(settings, engine, existing, tag, records)
    if not builds.adoptable(records.entries(), existing.commit, existing.image_id):
        raise tags.foreign_image(tag, existing, builds.of_commit(records.builds(), existing.commit))
    record = builds.Build(existing.commit, existing.image_id, existing.layers, code_layer=existing.code_layer)
    builds.write(settings, engine, dataclasses.replace(record, dirty=existing.dirty, adopted=True))
    return existing


def _dirty(repo: Repository, commit: Commit, allow_dirty: bool) -> bool:
    """The working tree can only be 'dirty' relative to the commit it is at, HEAD."""
    if commit.sha != repo.commit("HEAD").sha:
        return False
    paths = repo.dirty_paths()
    if paths and not allow_dirty:
        raise DirtyTree(
            f"uncommitted changes in {first_of(paths, 5)}",
            "commit them (the image is built from the commit), or build with --allow-dirty",
            paths=paths,
        )
    return bool(paths)


def _labels(repo: Repository, commit: Commit, describe: str, digest: str, dirty: bool) -> dict[str, str]:
    """Labels the commit determines: its time, the remote without credentials, the code layer computed from it."""
    return images.labels(
        commit=commit.sha,
        created=images.commit_time(commit.time),
        source=images.public_source(repo.source()),
        version=f"{describe}-dirty" if dirty else describe,
        code_digest=digest,
        code_layer=codelayer.of(repo, commit.sha),
        dirty=dirty,
    )


def _run_build(engine: docker.DockerClient, base: str, context: bytes, tag: str, say: Say) -> ReleaseImage:
    """Build the context on `base` (its Dockerfile sets the labels: `deploy.steps.buildcontext`) and tag the image."""
    step = ""
    try:
        log = engine.api.build(
            fileobj=io.BytesIO(context),
            custom_context=True,
            tag=tag,
            buildargs={"BASE_IMAGE": base},
            decode=True,
            rm=True,
            forcerm=True,
        )
        for chunk in log:
            said, error = images.build_progress(chunk), images.build_error(chunk)
            if said:
                step = said
                if progress.verbose(say):  # the Dockerfile's steps: only when the operator asks for every line
                    say(f"  {step}")
            if error:
                raise build_failed(step, error)
    except docker.errors.APIError as exc:
        raise build_failed(step, str(exc.explanation)) from exc
    return ReleaseImage.of(engine.images.get(tag))
