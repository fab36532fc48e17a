"""The release record (`deploy.records.releases`) a deploy or rollback keeps with its `succeeded` ledger entry.

Made from the clone when it has the commit: the compose file as Compose resolves it on the commit's tree
without interpolating (the runtime settings stay the ledger's; the attempt's preflight resolved it), the
code files and code layer from git objects. A rollback run from a clone that lacks the commit keeps the
record it ran from.
Nothing in it changes while the attempt runs: it is made as the attempt begins, beside it (`ahead`), and
kept only when the attempt succeeds. A record that cannot be made is said then and left out: the release
stays live and recorded, and a rollback to it then needs a clone with its commit.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

from deploy import meanwhile
from deploy.engine import compose
from deploy.errors import UnknownRevision
from deploy.ids import short
from deploy.policy import compose_file
from deploy.procedures.procedure import FAILURES, Attempt, Deployment, cause_of
from deploy.records import ledger, releases
from deploy.steps import codelayer
from deploy.steps.images import ReleaseImage


def ahead(
    d: Deployment, image: ReleaseImage, resolved: Callable[[], compose_file.Views]
) -> Callable[[], releases.Release | None]:
    """`made`, started now in a thread of its own (with its own git handle); the call waits for it. `resolved`:
    the commit's compose file as the attempt's preflight resolves it (`preflight.resolving`)."""

    def make() -> releases.Release | None:
        with d.repo.another() as own:  # the deploy's thread reads git meanwhile
            return made(dataclasses.replace(d, repo=own), image, lambda: resolved().structure)

    return meanwhile.start("release-record", make)


def files(
    d: Deployment, attempt: Attempt, image: ReleaseImage, release: Callable[[], releases.Release | None]
) -> dict[str, bytes]:
    """The record of `image`'s release `release` gives (`ahead`), under `attempt`'s id, as meta volume files;
    empty when it could not be made (said)."""
    try:
        found = release()
    except FAILURES as exc:
        d.say(f"{attempt.event}: no release record kept for {short(image.commit)} ({cause_of(exc)})")
        return {}
    return releases.files(found, attempt.id) if found else {}


def made(d: Deployment, image: ReleaseImage, structure: Callable[[], Mapping[str, Any]]) -> releases.Release | None:
    """The record of `image`'s release: from this clone, else the one on the engine (None without one).
    `structure`: the commit's compose file as Compose resolves it without interpolating (`Views.structure`)."""
    try:
        return of_clone(d, image, structure)
    except UnknownRevision:
        return recorded(d, image.image_id)


def of_clone(d: Deployment, image: ReleaseImage, structure: Callable[[], Mapping[str, Any]]) -> releases.Release:
    """The record made from this clone; `UnknownRevision` when it lacks the commit."""
    sha = d.repo.commit(image.commit).sha
    code, layer = d.repo.code_files(sha), codelayer.of(d.repo, sha)
    resolved = json.dumps(structure(), indent=2, ensure_ascii=False) + "\n"
    return releases.Release(sha, image.image_id, resolved, code, layer, ledger.operator(), ledger.now())


def trees_for(d: Deployment, *images: ReleaseImage | None) -> None:
    """Compose runs, for each image whose commit this clone lacks, on the compose file of its release record.

    `UnknownRevision` (before anything changes) when the clone lacks a commit and the engine has no record of it.
    """
    for image in images:
        if image is None or _in_clone(d, image.commit):
            continue
        record = recorded(d, image.image_id)
        if record is None:
            raise UnknownRevision(
                f"this clone lacks commit {short(image.commit)}, and no release record of it is on the engine "
                "(it went live before records were kept)",
                f"run from a clone that has {short(image.commit)} (`git fetch`)",
                rev=image.commit,
            )
        d.say(f"{short(image.commit)} is not in this clone: Compose runs on its release record (by {record.by})")
        d.trees.provide(record.commit, {compose.FILE: record.compose.encode()})


def recorded(d: Deployment, image_id: str) -> releases.Release | None:
    """The record of the newest attempt that made `image_id` live (through `d.records`), None without one."""
    entry = releases.newest_success(d.records.entries(), image_id)
    data = d.records.read(releases.path(entry.attempt)) if entry else None
    return releases.Release.parse(data) if data else None


def _in_clone(d: Deployment, sha: str) -> bool:
    try:
        d.repo.commit(sha)
    except UnknownRevision:
        return False
    return True
