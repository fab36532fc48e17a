"""What verify compares with (`reference.of`): git when the clone has the commit, else the release record."""

from __future__ import annotations

import pytest

from deploy.engine import compose
from deploy.errors import UnknownRevision
from deploy.verify import reference
from tests.unit.deploy.records.test_releases import RECORD


class Lacking:
    """A clone without the release's commit."""

    def commit(self, rev: str) -> object:
        raise UnknownRevision(f"unknown revision {rev!r}", "give a commit that exists")


def test_a_clone_without_the_commit_verifies_against_the_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference, "recorded", lambda _settings, _engine, image_id: RECORD)
    found = reference.of(None, None, Lacking(), RECORD.commit, RECORD.image_id)  # type: ignore[arg-type]
    assert (found.commit, dict(found.code), found.ahead) == (RECORD.commit, RECORD.code, 0)
    assert found.layer() == RECORD.code_layer
    assert found.commit_point_name == "commit (as recorded at deploy by me@host at t1)"
    with found.trees() as tree:
        assert [p.name for p in tree.iterdir()] == [compose.FILE]
        assert (tree / compose.FILE).read_text() == RECORD.compose
    assert not tree.exists()  # removed after the block


def test_without_commit_or_record_it_says_which_clone_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference, "recorded", lambda _settings, _engine, image_id: None)
    with pytest.raises(UnknownRevision) as missing:
        reference.of(None, None, Lacking(), RECORD.commit, RECORD.image_id)  # type: ignore[arg-type]
    assert "no release record" in missing.value.message
    assert missing.value.hint == f"run from a clone that has {RECORD.commit[:12]} (`git fetch`)"
