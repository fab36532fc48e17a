"""Release images as data: the one type of a release image, tags, labels, build log lines, which to prune.

Nothing here talks to the engine; `deploy.steps.tags` and `deploy.procedures.build` do,
with these decisions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from deploy.records.ledger import Tried

if TYPE_CHECKING:
    from docker.models.images import Image

REVISION = "org.opencontainers.image.revision"
CREATED = "org.opencontainers.image.created"
SOURCE = "org.opencontainers.image.source"
VERSION = "org.opencontainers.image.version"
CODE_DIGEST = "io.tradebot.code.digest"
CODE_LAYER = "io.tradebot.code.layer"
DIRTY = "io.tradebot.dirty"
MOVING_TAGS = ("live", "previous")


@dataclass(frozen=True)
class ReleaseImage:
    """A release image on the engine: its id, its tags, and what its labels say about the release it holds.

    Build returns one, deploy, rollback and restore act on one, status shows one.
    """

    image_id: str
    commit: str
    code_digest: str
    dirty: bool
    # what the engine names it by when read: other projects may tag the same image (one commit builds the same
    # image id anywhere), so the tags are no part of which release it is
    tags: tuple[str, ...] = field(default=(), compare=False)
    version: str = ""
    built_at: str = ""
    code_layer: str = ""
    layers: tuple[str, ...] = ()  # every layer's diff_id (`RootFS.Layers`), the base's first

    @classmethod
    def from_labels(
        cls,
        image_id: str,
        labels: Mapping[str, str] | None,
        tags: Iterable[str] = (),
        layers: Iterable[str] = (),
    ) -> ReleaseImage:
        labels = labels or {}
        return cls(
            image_id=image_id,
            commit=labels.get(REVISION, ""),
            code_digest=labels.get(CODE_DIGEST, ""),
            dirty=labels.get(DIRTY) == "true",
            tags=tuple(tags),
            version=labels.get(VERSION, ""),
            built_at=labels.get(CREATED, ""),
            code_layer=labels.get(CODE_LAYER, ""),
            layers=tuple(layers),
        )

    @classmethod
    def of(cls, image: Image) -> ReleaseImage:
        """The release image of the engine's `image` (its id, labels, tags and layers)."""
        layers = (image.attrs.get("RootFS") or {}).get("Layers") or ()
        return cls.from_labels(image.id, image.labels, image.tags, layers)

    def tag_in(self, repository: str) -> str:
        """Its `<repository>:<sha>` (or `…-dirty`) tag; empty when it has none there (an image of the same id
        carries another project's tags too: never this one's)."""
        tag = release_tag(repository, self.commit, self.dirty)
        return tag if self.commit and tag in self.tags else ""


def own_tags(tags: Iterable[str], repository: str) -> list[str]:
    """The tags of `repository` among an image's: an image of the same id (the same commit, built the same way
    by another project on this engine) carries that project's tags too, which are never this one's to remove."""
    return [tag for tag in tags if tag.startswith(f"{repository}:")]


def release_tag(repository: str, commit: str, dirty: bool) -> str:
    """`<repo>:<sha>`, or `<repo>:<sha>-dirty`: a dirty build never takes the commit's clean tag."""
    return f"{repository}:{commit}-dirty" if dirty else f"{repository}:{commit}"


def labels(
    *, commit: str, created: str, source: str, version: str, code_digest: str, code_layer: str, dirty: bool
) -> dict[str, str]:
    """The release labels; `source` only when there is one (never the build host's path)."""
    found = {
        REVISION: commit,
        CREATED: created,
        VERSION: version,
        CODE_DIGEST: code_digest,
        CODE_LAYER: code_layer,
        DIRTY: "true" if dirty else "false",
    }
    return {SOURCE: source, **found} if source else found


def commit_time(seconds: int) -> str:
    """The `created` label: the commit's time (RFC 3339 UTC), so labels are a function of the commit."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def public_source(url: str) -> str:
    """A remote URL fit for a label: no user-info (user, password, token); '' for a local path, and for a URL
    the standard library refuses (a user-info character that normalizes to `:` or `@`): no label then.

    `https://user:TOKEN@host:8443/repo.git` -> `https://host:8443/repo.git`; scp-like
    `git@host:org/repo.git` -> `host:org/repo.git`; `/srv/repo`, `file:///srv/repo` -> ''.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme and parts.netloc:
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname or ""
        return urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))
    if parts.scheme == "file" or ":" not in url:
        return ""
    return url.rpartition("@")[2]  # scp-like: [user@]host:path


def build_progress(chunk: Mapping[str, object]) -> str | None:
    """The line worth showing from one decoded build-log chunk: the `Step n/m : …` lines."""
    text = str(chunk.get("stream", "")).strip()
    return text if text.startswith("Step ") else None


def build_error(chunk: Mapping[str, object]) -> str | None:
    """The engine's error message in a build-log chunk, if it is one."""
    if "error" not in chunk:
        return None
    detail = chunk.get("errorDetail")
    message = detail.get("message") if isinstance(detail, Mapping) else None
    return str(message or chunk["error"]).strip()


def created_at(value: str) -> datetime:
    """The engine's `Created` (RFC 3339 with up to nanoseconds, trailing zeros dropped): compare these, not strings."""
    return datetime.fromisoformat(value)


def prune_candidates(images: Iterable[ReleaseImage], repository: str, keep: int, tried: Tried) -> list[str]:
    """Tags of release images retention lets go, failed releases first; it keeps what can be rolled back to.

    Kept: live and previous always; the newest `keep` releases that succeeded (by the ledger); builds
    never deployed that are newer than the live release (waiting for their first deploy).
    Every other release image goes: first those that only ever failed (never a rollback target),
    then older never-deployed builds and successes beyond the newest `keep`.
    `images` come newest first; only images labelled with a revision are releases (never the base image).
    Each image counts once however many tags it has.
    """
    live, protected = f"{repository}:live", {f"{repository}:{tag}" for tag in MOVING_TAGS}
    kept, past_live = 0, False
    failed: list[str] = []
    others: list[str] = []
    for image in images:
        past_live = past_live or live in image.tags
        if not image.commit or protected & set(image.tags):
            continue
        if image.image_id in tried.succeeded and kept < keep:
            kept += 1
            continue
        untried = image.image_id not in tried.succeeded | tried.failed
        if untried and not past_live:
            continue
        own = own_tags(image.tags, repository)
        (failed if image.image_id in tried.failed else others).extend(own)
    return failed + others


def unrecorded(found: Iterable[ReleaseImage], recorded: Collection[str]) -> list[ReleaseImage]:
    """The release-labelled images whose id is not in `recorded` (no build record: not built by this pipeline)."""
    return [image for image in found if image.commit and image.image_id not in recorded]
