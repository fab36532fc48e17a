"""Which release `invoke rollback` goes back to (`rollback.choose_target`), and what it says when there is none."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from deploy.errors import ForeignImage, ImageMissing
from deploy.ids import short
from deploy.procedures import rollback
from deploy.procedures.procedure import Deployment
from deploy.records import builds, ledger
from deploy.steps.images import ReleaseImage
from tests.unit.deploy.procedures.site import NEW, OLD, OLDER, Recorder, Site, success


@dataclass
class Commit:
    sha: str


class Repo:
    """A repository that knows every revision as itself (GitPython's part is the git tests')."""

    def commit(self, rev: str) -> Commit:
        return Commit(rev)


def test_a_named_revision_is_its_release_image(d: Deployment, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, bool]] = []

    def of_commit(_settings: object, _engine: object, commit: str, force: bool, _records: object) -> ReleaseImage:
        asked.append((commit, force))
        return OLDER

    monkeypatch.setattr(rollback.tags, "of_commit", of_commit)
    site.add(OLD, "p:previous")
    chosen = rollback.choose_target(dataclasses.replace(d, repo=Repo()), OLDER.commit)
    assert chosen == OLDER and asked == [(OLDER.commit, False)]  # a dirty image only by deploy --force


def test_without_a_revision_previous_is_chosen_over_the_ledger(d: Deployment, seen: Recorder, site: Site) -> None:
    site.add(NEW, "p:live")
    site.add(OLD, "p:previous")
    seen.records.ledger += [success(OLDER), success(NEW)]
    assert rollback.choose_target(d, None) == OLD


def test_without_previous_the_last_other_success_of_the_ledger_is_chosen(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    site.add(NEW, "p:live")
    site.add(OLDER)
    site.add(OLD)
    failed_old = ledger.Entry("deploy", OLD.commit, OLD.image_id, "d1", "t2", "t3", "me", ledger.FAILED)
    seen.records.ledger += [success(OLDER), failed_old, success(NEW)]
    assert rollback.choose_target(d, None) == OLDER  # not the live commit, not a failed attempt


def test_with_nothing_to_go_back_to_the_error_says_to_name_a_revision(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    site.add(NEW, "p:live")
    seen.records.ledger.append(success(NEW))
    with pytest.raises(ImageMissing) as missing:
        rollback.choose_target(d, None)
    assert (missing.value.message, missing.value.hint) == (
        "image p:previous is not on the engine",
        "no earlier release is recorded; name one: `invoke rollback --to REV`",
    )
    assert missing.value.exit_code == 5


def test_an_earlier_success_whose_image_is_gone_says_to_build_it_again(
    d: Deployment, seen: Recorder, site: Site
) -> None:
    seen.records.ledger.append(success(OLDER))  # nothing live, its image pruned
    with pytest.raises(ImageMissing) as missing:
        rollback.choose_target(d, None)
    assert (missing.value.message, missing.value.hint) == (
        f"image {short(OLDER.image_id)} of {short(OLDER.commit)} is not on the engine",
        f"run `invoke build --rev {short(OLDER.commit)}` and deploy that",
    )


@pytest.mark.parametrize("where", ["p:previous", "the ledger"])
def test_a_target_the_pipeline_never_built_is_refused(d: Deployment, seen: Recorder, site: Site, where: str) -> None:
    site.add(NEW, "p:live")
    site.add(OLD, *(["p:previous"] if where == "p:previous" else []))
    seen.records.ledger += [success(OLD), success(NEW)]
    site.foreign.add(OLD.image_id)
    site.recorded_builds = [builds.Build(OLD.commit, OLDER.image_id, ())]  # what the build of OLD's commit made
    with pytest.raises(ForeignImage) as refused:
        rollback.choose_target(d, None)
    ref = "p:previous" if where == "p:previous" else short(OLD.image_id)
    assert refused.value.message == (
        f"{ref} is image {short(OLD.image_id)}, which this pipeline never built for {short(OLD.commit)} "
        f"(its recorded builds: {short(OLDER.image_id)}); it is not deployed"
    )
    assert refused.value.exit_code == 5
