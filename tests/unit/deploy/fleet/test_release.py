"""A fleet release's outcome per member, the error it stops with, and a child's error raised again as its class."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import git

from deploy.engine.git import Repository
from deploy.errors import FleetFileInvalid, FleetReleaseStopped, MoveRefused, RolledBack, TradebotError
from deploy.fleet import children, release
from deploy.fleet.children import Answer
from deploy.fleet.release import FleetRelease, Outcome
from deploy.fleet.roster import Fleet, Member

A, B, C = (Member(n, f"unix:///{n}.sock", f"p{n}") for n in "abc")
COMMIT = "f" * 40
BUILT = Answer("a", {"ok": True, "how": "built"})
ROLLED_BACK = Answer(
    "a",
    {"ok": False, "error": "bot not healthy; cccccccccccc runs again", "error_type": "RolledBack", "exit_code": 7},
    exit_code=7,
)


def test_each_member_is_released_failed_or_untouched() -> None:
    assert Outcome(A, BUILT, Answer("a", {"ok": True})).outcome == release.RELEASED
    assert Outcome(A, BUILT, ROLLED_BACK).outcome == release.FAILED
    assert Outcome(A, BUILT).outcome == release.UNTOUCHED
    assert Outcome(A, Answer("a", {"ok": False, "error": "build failed"}, exit_code=5)).outcome == release.FAILED


def test_a_stopped_release_names_the_member_its_cause_and_who_is_untouched() -> None:
    found = FleetRelease(Path("fleet.toml"), COMMIT, (Outcome(A, BUILT, ROLLED_BACK), Outcome(B, BUILT), Outcome(C)))
    error = release.stopped_error(found)
    assert isinstance(error, FleetReleaseStopped) and error.exit_code == 7
    assert error.message == (
        "the fleet release of ffffffffffff stopped at a: its release failed "
        "(bot not healthy; cccccccccccc runs again); untouched: b, c"
    )
    document = found.to_json()
    assert (document["ok"], document["stopped_at"], document["exit_code"]) == (False, "a", 7)
    assert [m["outcome"] for m in document["members"]] == ["failed", "untouched", "untouched"]
    assert document["members"][0]["report"]["error_type"] == "RolledBack"


def test_a_release_that_reached_every_member_is_ok() -> None:
    done = Answer("a", {"ok": True})
    found = FleetRelease(Path("fleet.toml"), COMMIT, (Outcome(A, BUILT, done), Outcome(B, BUILT, done)))
    assert release.stopped_error(found) is None and found.to_json()["ok"]


def test_a_childs_error_comes_back_as_its_own_class_and_exit_code() -> None:
    assert isinstance(children.error_of(ROLLED_BACK), RolledBack)
    said = {"ok": False, "error": "nothing live", "next": "deploy it", "error_type": "MoveRefused"}
    error = children.error_of(Answer("a", said, exit_code=10))
    assert isinstance(error, MoveRefused)
    assert (error.message, error.hint, error.exit_code) == ("nothing live", "deploy it", 10)
    unknown = children.error_of(Answer("a", {"error": "no document (exit 1): boom"}, exit_code=1))
    assert type(unknown) is TradebotError and unknown.exit_code == 1


def test_a_refused_release_is_a_report_too_every_member_untouched_with_the_refusal(tmp_path: Path) -> None:
    """`fleet-release --json` prints its document when the preflight refuses (here: no member builds)."""
    git.Repo.init(tmp_path).index.commit("one")  # a real repository: the commit is resolved before the preflight
    fleet = Fleet(tmp_path / "fleet.toml", tuple(dataclasses.replace(m, build=False) for m in (A, B)))
    said: list[str] = []
    found = release.release(fleet, {}, Repository(tmp_path), "HEAD", said.append)
    assert isinstance(found.refused, FleetFileInvalid) and release.stopped_error(found) is found.refused
    assert said == []  # refused before any member was asked
    document = found.to_json()
    assert (document["ok"], document["stopped_at"], document["exit_code"]) == (False, "", found.refused.exit_code)
    assert document["error"] == f"no member of {fleet.path} builds"
    assert [m["outcome"] for m in document["members"]] == ["untouched", "untouched"]
    assert "refused, nothing changed on any member" in release.output(found, as_json=False).splitlines()[0]
