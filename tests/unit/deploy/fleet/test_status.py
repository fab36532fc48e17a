"""The fleet's side of fleet-status (pure): who writes which state, and where the members disagree."""

from __future__ import annotations

from deploy.fleet import status
from deploy.fleet.children import Answer
from deploy.fleet.roster import Member

A = Member("a", "unix:///a.sock", "pa")
B = Member("b", "ssh://root@b", "pb")


def container(name: str, labels: dict[str, str], volumes: tuple[str, ...] = ()) -> dict[str, object]:
    return {
        "Name": f"/{name}",
        "Config": {"Labels": labels},
        "Mounts": [{"Type": "volume", "Name": v} for v in volumes],
    }


def test_a_state_is_written_by_its_compose_project_a_stack_of_its_name_or_whatever_mounts_it() -> None:
    running = [
        container("pa-bot-1", {"com.docker.compose.project": "pa"}, ("pa_state",)),
        container("pa_bot.1.x", {"com.docker.stack.namespace": "pa"}),
        container("by-hand", {}, ("pb_state",)),
        container("pa-backup-helper", {"io.tradebot.helper-of": "pa"}, ("pa_state",)),
        container("unrelated", {"com.docker.compose.project": "other"}, ("other_state",)),
    ]
    assert status.writers_of(running, ["pa", "pb"]) == {"pa": ["pa-bot-1", "pa_bot.1.x"], "pb": ["by-hand"]}


def said(member: Member, commit: str, engine: str, writers: dict[str, list[str]] | None = None) -> Answer:
    release = {"commit": commit} if commit else None
    document = {"ok": True, "status": {"release": release}, "engine_id": engine, "writers": writers or {}}
    return Answer(member.name, document)


def test_members_on_one_release_on_their_own_engines_agree() -> None:
    answers = [said(A, "c" * 40, "e1", {"pa": ["pa-bot-1"]}), said(B, "c" * 40, "e2", {"pb": ["pb-bot-1"]})]
    assert status.disagreements([A, B], answers) == []


def test_members_on_different_releases_are_named_with_their_commits() -> None:
    answers = [said(A, "c" * 40, "e1"), said(B, "", "e2")]
    assert status.disagreements([A, B], answers) == ["the members run different releases: a cccccccccccc, b nothing"]


def test_a_project_running_on_another_members_engine_is_a_second_writer() -> None:
    answers = [said(A, "c" * 40, "e1", {"pa": ["pa-bot-1"]}), said(B, "c" * 40, "e2", {"pa": ["pa-bot-1"]})]
    assert status.disagreements([A, B], answers) == [
        "pa's state has a second writer: pa-bot-1 on b's engine (ssh://root@b) writes pa, whose member runs elsewhere"
    ]


def test_two_members_sharing_one_engine_see_each_other_without_a_disagreement() -> None:
    shared = {"pa": ["pa-bot-1"], "pb": ["pb-bot-1"]}
    answers = [said(A, "c" * 40, "e1", shared), said(B, "c" * 40, "e1", shared)]
    assert status.disagreements([A, B], answers) == []


def test_a_member_that_did_not_answer_is_left_out_of_the_comparison() -> None:
    answers = [said(A, "c" * 40, "e1"), Answer("b", unreachable="no answer within 8 s")]
    assert status.disagreements([A, B], answers) == []


def test_an_engine_is_known_by_its_id_host_and_data_root() -> None:
    info = {"ID": "QYFA:ZWIC", "Name": "vm", "DockerRootDir": "/tmp/tbd1/data", "Containers": 3}
    assert status.identity(info) == "QYFA:ZWIC vm /tmp/tbd1/data"
