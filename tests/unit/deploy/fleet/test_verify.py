"""The fleet's point (pure): every member answered, all on one commit, one code digest, one code layer."""

from __future__ import annotations

from pathlib import Path

from deploy.fleet import verify
from deploy.fleet.children import Answer
from deploy.fleet.roster import Member

MEMBERS = [Member("a", "unix:///a", "pa"), Member("b", "ssh://root@b", "pb")]
C, D = "c" * 40, "d" * 40


def said(member: str, commit: str = C, digest: str = "sha256:" + "1" * 64, layer: str = "sha256:" + "2" * 64) -> Answer:
    return Answer(member, {"ok": True, "facts": {"commit": commit, "code digest": digest, "code layer": layer}})


def test_one_release_everywhere_holds() -> None:
    point = verify.fleet_point(MEMBERS, [said("a"), said("b")])
    assert point.ok, point
    assert point.detail == "2 members run cccccccccccc, code digest 111111111111, code layer 222222222222"


def test_each_fact_that_differs_is_named_with_every_members_value() -> None:
    point = verify.fleet_point(MEMBERS, [said("a"), said("b", commit=D, layer="sha256:" + "3" * 64)])
    assert not point.ok
    assert point.detail == (
        "commit differs (a cccccccccccc, b dddddddddddd); code layer differs (a 222222222222, b 333333333333)"
    )


def test_a_member_without_an_answer_fails_the_point_by_name() -> None:
    point = verify.fleet_point(MEMBERS, [said("a"), Answer("b", unreachable="no answer within 8 s")])
    assert (point.ok, point.detail) == (False, "no verify from b")


def test_a_member_whose_own_verify_fails_fails_the_fleet_even_on_one_release() -> None:
    failing = Answer("b", {**said("b").document, "ok": False, "error": "bot container differs"}, exit_code=8)
    answers = (said("a"), failing)
    found = verify.FleetVerify(Path("fleet.toml"), tuple(MEMBERS), answers, verify.fleet_point(MEMBERS, answers), 1.0)
    assert found.point.ok and not found.ok
