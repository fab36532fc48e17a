"""`deploy.steps.handover`'s decision: which containers a standby started, by id."""

from __future__ import annotations

import pytest

from deploy.config import Settings
from deploy.errors import StandbyFailed
from deploy.steps import handover


def test_the_new_containers_are_those_not_there_before_one_per_service() -> None:
    before = {"bot": ["a"], "worker": ["b", "x"]}  # x: a stopped container of an earlier run
    after = {"bot": ["a", "c"], "worker": ["b", "x", "d"]}
    assert handover.new_ones(before, after) == {"bot": "c", "worker": "d"}


@pytest.mark.parametrize("bots", [["a"], ["a", "c", "e"]], ids=["none started", "two started"])
def test_anything_but_one_new_container_per_service_is_a_failed_standby(bots: list[str]) -> None:
    with pytest.raises(StandbyFailed) as failed:
        handover.new_ones({"bot": ["a"], "worker": ["b"]}, {"bot": bots, "worker": ["b", "d"]})
    assert failed.value.exit_code == 10 and "nothing was stopped" in failed.value.message
    assert failed.value.data["service"] == "bot"


def test_a_services_stable_name_is_the_one_compose_gives_its_first_container() -> None:
    assert handover.name(Settings(project="paper-2"), "worker") == "paper-2-worker-1"
