"""One commit built on two engines gives the same code layer, and it is the layer computed from the commit alone.

The second engine is empty apart from the base image, which is loaded into it;
the two builds happen at different times, from different clones' points of view
only through the commit. The promise: `RootFS.Layers[-1]` is equal on both and
equal to `deploy.codelayer`'s digest, which verify compares.
"""

from __future__ import annotations

import docker

from deploy import build
from deploy.git import Repository
from deploy.testing.sandbox import Sandbox, quiet
from tests.integration.engines import copy_image, second_engine


def code_layer(engine: docker.DockerClient, tag: str) -> str:
    return engine.images.get(tag).attrs["RootFS"]["Layers"][-1]


def test_one_commit_builds_the_same_code_layer_on_two_engines(
    sandbox: Sandbox, docker_client: docker.DockerClient, base_image: str
) -> None:
    repo = Repository(sandbox.repo)
    here = build.build(sandbox.settings, docker_client, repo, say=quiet)
    with second_engine() as engine:
        other = engine.client
        copy_image(docker_client, other, base_image)
        assert [image.tags for image in other.images.list()] == [[base_image]]  # nothing to reuse there
        there = build.build(sandbox.settings, other, repo, say=quiet)
        layers = (code_layer(other, there.release_tag), code_layer(docker_client, here.release_tag))
        assert layers == (repo.code_layer(here.commit),) * 2
        assert other.images.get(there.release_tag).labels == docker_client.images.get(here.release_tag).labels
