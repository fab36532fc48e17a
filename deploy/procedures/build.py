"""`invoke build`: one release image per commit, built from the committed tree only.

The build context is made from the commit's git objects (`deploy.steps.buildcontext`), so
an uncommitted edit can never reach an image and the code layer is the same on
every engine. When the commit is HEAD and the
working tree differs in Dockerfile, docker-compose.yml or trading/, the build is
refused unless `allow_dirty`; such an image is labelled dirty and tagged
`<project>:<sha>-dirty` (its content is still the commit's). A commit whose
image is already on the engine is reused.
"""

from __future__ import annotations

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
        say(f"build: {tag} exists ({short(existing.image_id)}); reusing it")
        return existing
    digest, describe = codedigest.digest(repo.code_files(commit.sha)), repo.describe(commit.sha)
    source = f"the committed tree of {describe}{' (working tree dirty)' if dirty else ''}"
    if progress.verbose(say):
        say(f"build: {tag} from {source} …")
    labels = _labels(repo, commit, describe, digest, dirty)
    built = _run_build(settings, engine, buildcontext.of(repo, commit.sha, labels), tag, say)
    say(f"build: {tag} is {short(built.image_id)} (code digest {short(digest)}), from {source}")
    return built


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


def _run_build(settings: Settings, engine: docker.DockerClient, context: bytes, tag: str, say: Say) -> ReleaseImage:
    """Build the context (its Dockerfile sets the labels: `deploy.steps.buildcontext`) and tag the image."""
    base = baseimage.resolve(settings, engine)
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
    image = engine.images.get(tag)
    return ReleaseImage.from_labels(image.id, image.labels, image.tags)
