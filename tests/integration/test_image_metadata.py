"""No secret or build-host detail in a release image: not in a layer, a label, or a history entry."""

from __future__ import annotations

import docker

from deploy import build, images
from deploy.git import Repository
from testsupport.sandbox import Sandbox, git, quiet

TOKEN = "ghp_s3cretTOKENnotForImages"


def test_a_credential_in_the_remote_url_reaches_no_layer_label_or_history(
    sandbox: Sandbox, docker_client: docker.DockerClient
) -> None:
    git(sandbox.repo, "remote", "add", "origin", f"https://deployer:{TOKEN}@git.example.invalid/org/tradebot.git")
    built = build.build(sandbox.settings, docker_client, Repository(sandbox.repo), say=quiet)
    image = docker_client.images.get(built.release_tag)
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
    labels = docker_client.images.get(built.release_tag).labels
    assert images.SOURCE not in labels
    assert str(sandbox.repo) not in repr(labels)
    assert labels[images.CREATED] == images.commit_time(repo.commit(built.commit).time)
