"""Which helper containers a command removes: its creator's host and pid decide (`deploy.engine.helpers.leftover`)."""

from __future__ import annotations

import os
import socket

import pytest

from deploy.engine import helpers

MINE = {helpers.HELPER_OF: "tb", helpers.HOST: "ci-runner", helpers.PID: "4242"}
ELSEWHERE = {**MINE, helpers.HOST: "laptop"}
UNKNOWN = {helpers.HELPER_OF: "tb"}  # made by an older version: no creator labels


@pytest.mark.parametrize("everyone", [False, True])
def test_a_helper_whose_creator_died_here_is_removed_and_a_live_creators_kept(everyone: bool) -> None:
    assert helpers.leftover(MINE, "ci-runner", alive=lambda pid: False, everyone=everyone)
    assert not helpers.leftover(MINE, "ci-runner", alive=lambda pid: True, everyone=everyone)


@pytest.mark.parametrize("found", [ELSEWHERE, UNKNOWN], ids=["another machine", "no creator"])
def test_a_helper_nobody_here_can_judge_is_removed_only_under_the_deploy_lock(found: dict[str, str]) -> None:
    assert not helpers.leftover(found, "ci-runner", alive=lambda pid: False, everyone=False)
    assert helpers.leftover(found, "ci-runner", alive=lambda pid: True, everyone=True)


def test_labels_name_the_project_and_this_process() -> None:
    assert helpers.labels("tb") == {
        helpers.HELPER_OF: "tb",
        helpers.HOST: socket.gethostname(),
        helpers.PID: str(os.getpid()),
    }
