"""Every refusal through the operator's CLI: one line saying what is wrong and what to do, its exit code, nothing done.

Runs `invoke` as the operator does, against a sandbox project.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.steps import lock
from testsupport.cli import invoke, nothing_deployed, refused
from testsupport.sandbox import Sandbox


@pytest.mark.smoke
def test_a_second_deploy_while_one_holds_the_lock_is_refused(sandbox: Sandbox) -> None:
    build.build(sandbox.settings, sandbox.engine, Repository(sandbox.repo), say=lambda _: None)
    with lock.held(sandbox.settings, sandbox.engine, "deploy (first)"):
        result = invoke(sandbox, "deploy")
    refused(result, 6, "deploy lock held by", f"pid {os.getpid()}, deploy (first)", "since 20", "invoke unlock")
    nothing_deployed(sandbox)


@pytest.mark.smoke
def test_deploying_a_commit_without_an_image_says_to_build_it(sandbox: Sandbox) -> None:
    refused(invoke(sandbox, "deploy"), 5, "is not on the engine", "invoke build")
    nothing_deployed(sandbox)


@pytest.mark.parametrize(
    ("args", "env", "code", "words"),
    [
        (("build",), {"DOCKER_HOST": "tcp://127.0.0.1:9"}, 3, ("Docker engine unreachable", "DOCKER_HOST")),
        (("deploy",), {"TRADEBOT_COMPOSE": "/nonexistent/docker-compose"}, 3, ("Compose v2 not found",)),
        (("deploy", "--rev", "no-such-rev"), {}, 4, ("unknown revision 'no-such-rev'",)),
        (("rollback",), {}, 5, ("no earlier release", "rollback --to")),
        (("restore",), {}, 5, ("no state backup exists", "a deploy or rollback makes one")),
        (("deploy",), {"TRADEBOT_PROJECT": "a_-x"}, 2, ("TRADEBOT_PROJECT", "a_-x")),  # Docker would refuse it
        (("status",), {"TRADEBOT_PROJECT": "paper\n"}, 2, ("TRADEBOT_PROJECT",)),
    ],
    ids=[
        "engine-unreachable",
        "compose-missing",
        "unknown-revision",
        "nothing-to-roll-back-to",
        "no-backup",
        "project-name-docker-rejects",
        "project-name-with-a-newline",
    ],
)
def test_refusals_name_the_problem_and_the_next_step(
    sandbox: Sandbox, args: tuple[str, ...], env: dict[str, str], code: int, words: tuple[str, ...]
) -> None:
    refused(invoke(sandbox, *args, **env), code, *words)
    nothing_deployed(sandbox)


def test_not_a_repository_and_a_dirty_tree_are_refused_before_building(sandbox: Sandbox, tmp_path: Path) -> None:
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    refused(invoke(sandbox, "build", TRADEBOT_REPO=str(elsewhere)), 4, "is not a git repository")
    sandbox.write("trading/strategy.py", "# edited, not committed\n")
    refused(invoke(sandbox, "build"), 4, "uncommitted changes in trading/strategy.py", "--allow-dirty")
    assert not sandbox.engine.images.list(name=sandbox.settings.image_repo)


def test_a_failing_dockerfile_step_is_named(sandbox: Sandbox) -> None:
    dockerfile = (sandbox.repo / "Dockerfile").read_text()
    sandbox.commit("a step that fails", {"Dockerfile": dockerfile + "RUN echo broken step && exit 3\n"})
    line = refused(invoke(sandbox, "build"), 5, "image build failed at Step", "RUN echo broken step", "code: 3")
    assert line.startswith("error: image build failed")
