"""No secret or build-host detail in a release image: not in a layer, a label, or a history entry."""

from __future__ import annotations

import io

import docker
import pytest

from deploy.engine.git import Repository
from deploy.errors import BuildFailed
from deploy.procedures import build
from deploy.steps import buildcontext, images, liveness
from testsupport.sandbox import Sandbox, git, quiet
from trading import stages

TOKEN = "ghp_s3cretTOKENnotForImages"


def test_a_credential_in_the_remote_url_reaches_no_layer_label_or_history(
    sandbox: Sandbox, docker_client: docker.DockerClient
) -> None:
    git(sandbox.repo, "remote", "add", "origin", f"https://deployer:{TOKEN}@git.example.invalid/org/tradebot.git")
    built = build.build(sandbox.settings, docker_client, Repository(sandbox.repo), say=quiet)
    image = docker_client.images.get(built.tag_in(sandbox.settings.image_repo))
    assert image.labels[images.SOURCE] == "https://git.example.invalid/org/tradebot.git"
    history = repr(image.history())
    saved = b"".join(image.save(named=False))  # every layer, the config (labels, history) and the manifest
    for secret in (TOKEN, "deployer", str(sandbox.repo)):
        assert secret not in repr(image.labels) and secret not in history, secret
    for secret in (TOKEN, str(sandbox.repo)):
        assert secret.encode() not in saved, secret


def test_without_a_remote_no_label_names_the_build_host(sandbox: Sandbox, docker_client: docker.DockerClient) -> None:
    repo = Repository(sandbox.repo)
    built = build.build(sandbox.settings, docker_client, repo, say=quiet)
    labels = docker_client.images.get(built.tag_in(sandbox.settings.image_repo)).labels
    assert images.SOURCE not in labels
    assert str(sandbox.repo) not in repr(labels)
    assert labels[images.CREATED] == images.commit_time(repo.commit(built.commit).time)
    assert liveness.protocol_of(labels) == stages.PROTOCOL  # the Dockerfile's, beside the pipeline's


def test_labels_with_quotes_backslashes_dollars_and_any_text_arrive_as_given(
    sandbox: Sandbox, docker_client: docker.DockerClient
) -> None:
    """The labels are one LABEL instruction the pipeline writes (`deploy.steps.buildcontext.label_instruction`)."""
    labels = {
        "io.tradebot.test.quotes": 'say "hi" \\ and \\" back\\',
        "io.tradebot.test.dollars": "$HOME ${PATH} $ \\$",
        "io.tradebot.test.text": "grüße, 取引 and  spaces\ttab",
        "io.tradebot.test.pairs": "a=b c=d",
        "io.tradebot.test.empty": "",
    }
    repo, tag = Repository(sandbox.repo), f"{sandbox.settings.image_repo}:labels"
    context = buildcontext.of(repo, repo.commit("HEAD").sha, labels)
    log = docker_client.api.build(
        fileobj=io.BytesIO(context),
        custom_context=True,
        tag=tag,
        decode=True,
        rm=True,
        forcerm=True,
        buildargs={"BASE_IMAGE": sandbox.settings.base_image or ""},
    )
    assert not [chunk for chunk in log if "error" in chunk]
    found = docker_client.images.get(tag).labels
    assert {key: value for key, value in found.items() if key.startswith("io.tradebot.test.")} == labels


def test_a_label_with_a_line_break_is_refused_before_the_engine_is_asked(sandbox: Sandbox) -> None:
    repo = Repository(sandbox.repo)
    with pytest.raises(BuildFailed, match="line break"):
        buildcontext.of(repo, repo.commit("HEAD").sha, {"io.tradebot.test": "two\nlines"})
