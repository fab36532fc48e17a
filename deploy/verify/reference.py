"""What verify compares a deployment with: the release's commit, from this clone's git, or, when the clone
lacks the commit (another clone deployed it, or there is no clone), from the release record kept on the
engine (`deploy.records.releases`).

    from git     the code files and the code layer computed from the commit's objects, Compose on the
                 commit's tree (`deploy.engine.tree`), how far HEAD is ahead
    recorded     the code files and code layer the deploy computed from the commit, Compose on the compose
                 file it resolved, in a tree of its own; the commit point says it is as recorded, by whom

A release without a record (deployed before records were kept) needs a clone with its commit:
`UnknownRevision`, saying so.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import docker

from deploy.config import Settings
from deploy.engine import compose, tree
from deploy.errors import CodeLayerUncomputable, UnknownRevision
from deploy.ids import short
from deploy.records import ledger, meta, releases
from deploy.steps import codelayer

if TYPE_CHECKING:
    from deploy.engine.git import Repository  # GitPython: imported by whoever makes one


@dataclass(frozen=True)
class Reference:
    commit: str
    code: Mapping[str, str]  # `{relpath: sha256}` of trading/
    layer: Callable[[], str]  # the code layer's diff_id; raises CodeLayerUncomputable
    trees: Callable[[], contextlib.AbstractContextManager[Path]]  # a tree to run Compose on, for a block
    ahead: int  # commits HEAD is ahead of the release (0 when recorded)
    recorded_by: str = ""  # who deployed it, when the reference is the record

    @property
    def commit_point_name(self) -> str:
        return f"commit (as recorded at deploy by {self.recorded_by})" if self.recorded_by else "commit"


def of(settings: Settings, engine: docker.DockerClient, repo: Repository, sha: str, image_id: str) -> Reference:
    """The reference of release `sha` (image `image_id`): git when this clone has the commit, else its record."""
    try:
        found = repo.commit(sha).sha
    except UnknownRevision as missing:
        record = recorded(settings, engine, image_id)
        if record is None:
            raise UnknownRevision(
                f"this clone lacks commit {short(sha)} of the live release, and no release record of it is on "
                "the engine (it went live before records were kept)",
                f"run from a clone that has {short(sha)} (`git fetch`)",
                rev=sha,
            ) from missing
        return from_record(record)
    return Reference(
        found,
        repo.code_files(found),
        lambda: codelayer.of(repo, found),
        lambda: tree.committed(repo, found),
        repo.commits_ahead(found),
    )


def recorded(settings: Settings, engine: docker.DockerClient, image_id: str) -> releases.Release | None:
    """The record of the newest attempt that made `image_id` live, None without one."""
    entry = releases.newest_success(ledger.read(settings, engine), image_id)
    data = meta.read_file(settings, engine, releases.path(entry.attempt)) if entry else None
    return releases.Release.parse(data) if data else None


def from_record(record: releases.Release) -> Reference:
    return Reference(
        record.commit,
        record.code,
        lambda: _recorded_layer(record),
        lambda: compose_tree(record.compose),
        0,
        f"{record.by} at {record.at}",
    )


def _recorded_layer(record: releases.Release) -> str:
    if not record.code_layer:
        raise CodeLayerUncomputable("the release record holds no code layer", "deploy the release again")
    return record.code_layer


@contextlib.contextmanager
def compose_tree(compose_file: str) -> Iterator[Path]:
    """A private directory holding only `compose_file` as its `docker-compose.yml`, for the block."""
    with tempfile.TemporaryDirectory(prefix=tree.PREFIX) as where:
        (Path(where) / compose.FILE).write_text(compose_file)
        yield Path(where)
