"""Which image `invoke deploy` makes live (`tags.of_commit`): the commit's clean release, a dirty one only forced."""

from __future__ import annotations

import dataclasses

import pytest

from deploy.errors import DirtyImage, ImageMissing
from deploy.ids import short
from deploy.procedures.procedure import Deployment
from deploy.steps import tags
from tests.unit.deploy.procedures.site import NEW, OLD, Site

DIRTY = dataclasses.replace(NEW, commit=OLD.commit)  # OLD's commit, built from a tree with changes


def chosen(d: Deployment, force: bool = False) -> object:
    return tags.of_commit(d.settings, d.engine, OLD.commit, force)


def test_the_commits_clean_release_is_chosen_even_beside_a_dirty_one(d: Deployment, site: Site) -> None:
    site.add(OLD, f"p:{OLD.commit}")
    site.add(DIRTY, f"p:{OLD.commit}-dirty")
    assert chosen(d) == OLD == chosen(d, force=True)


def test_a_dirty_build_is_refused_unless_forced(d: Deployment, site: Site) -> None:
    site.add(DIRTY, f"p:{OLD.commit}-dirty")
    with pytest.raises(DirtyImage) as refused:
        chosen(d)
    assert (refused.value.message, refused.value.hint) == (
        f"p:{OLD.commit}-dirty was built from a dirty working tree",
        "commit the changes and build again, or deploy it anyway with --force",
    )
    assert refused.value.exit_code == 5
    assert chosen(d, force=True) == DIRTY


def test_a_commit_without_a_release_image_says_to_build_it(d: Deployment) -> None:
    with pytest.raises(ImageMissing) as missing:
        chosen(d, force=True)
    assert (missing.value.message, missing.value.hint) == (
        f"image p:{OLD.commit} is not on the engine",
        f"run `invoke build --rev {short(OLD.commit)}` first",
    )
