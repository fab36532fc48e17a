"""The release record a success keeps, and Compose on it when the clone lacks the commit (`releaserecord`)."""

from __future__ import annotations

import dataclasses

import pytest

from deploy.engine import compose
from deploy.errors import CommandFailed, UnknownRevision
from deploy.procedures import releaserecord
from deploy.procedures.procedure import Attempt, Deployment
from deploy.records import ledger, releases
from deploy.steps.images import ReleaseImage
from deploy.steps.tags import LiveTags
from tests.unit.deploy.procedures.site import Recorder
from tests.unit.deploy.records.test_releases import RECORD
from tests.unit.deploy.verify.test_reference import Lacking

IMAGE = ReleaseImage(RECORD.image_id, RECORD.commit, "d", dirty=False)


def lacking(d: Deployment) -> Deployment:
    return dataclasses.replace(d, repo=Lacking())  # type: ignore[arg-type]


def recorded_before(seen: Recorder) -> None:
    """A deploy of IMAGE that went live, with its record, as the ledger and meta volume hold them."""
    deployed = ledger.Entry("deploy", IMAGE.commit, IMAGE.image_id, "d", "t0", "t1", "me", ledger.SUCCEEDED)
    seen.records.append(dataclasses.replace(deployed, attempt="first"), releases.files(RECORD, "first"))


def test_a_clone_without_the_commit_runs_compose_on_the_record(d: Deployment, seen: Recorder) -> None:
    recorded_before(seen)
    d = lacking(d)
    releaserecord.trees_for(d, IMAGE, None)
    tree = d.trees.export(d.repo, IMAGE.commit)  # provided: git is not asked
    assert (tree / compose.FILE).read_text() == RECORD.compose
    assert any("Compose runs on its release record (by me@host)" in line for line in seen.said)


def test_a_clone_without_the_commit_and_no_record_is_refused_before_anything(d: Deployment) -> None:
    with pytest.raises(UnknownRevision) as missing:
        releaserecord.trees_for(lacking(d), IMAGE)
    assert "no release record of it is on the engine" in missing.value.message


def test_a_rollback_from_the_record_keeps_it_under_its_own_attempt(d: Deployment, seen: Recorder) -> None:
    recorded_before(seen)
    attempt = Attempt("rollback", IMAGE, LiveTags(None, None), id="again")
    d = lacking(d)
    assert releaserecord.files(d, attempt, IMAGE, lambda: releaserecord.made(d, IMAGE, dict)) == releases.files(
        RECORD, "again"
    )


def test_a_record_that_could_not_be_made_is_said_and_left_out(d: Deployment, seen: Recorder) -> None:
    def failed() -> releases.Release | None:
        raise CommandFailed(["docker", "compose", "config"], 1, "no such file")

    attempt = Attempt("deploy", IMAGE, LiveTags(None, None), id="now")
    assert releaserecord.files(d, attempt, IMAGE, failed) == {}
    assert any(f"deploy: no release record kept for {IMAGE.commit[:12]}" in line for line in seen.said)
