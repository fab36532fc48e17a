"""One commit built on two engines, and by both builders, gives the same code layer: the one computed from the commit.

The second engine is empty apart from the base image, which is loaded into it;
the two builds happen at different times, from different clones' points of view
only through the commit. The promise: `RootFS.Layers[-1]` is equal on both and
equal to `deploy.steps.codelayer`'s digest, which verify compares. BuildKit builds the
same context through the engine's API (`POST /build?version=2`: the engine's own
BuildKit, no buildx plugin needed; the SDK's `build` speaks only the classic builder).
"""

from __future__ import annotations

import json

import docker

from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.steps import buildcontext, codelayer
from tests.integration.engines import copy_image, second_engine
from testsupport.sandbox import Sandbox, quiet


def code_layer(engine: docker.DockerClient, tag: str) -> str:
    return engine.images.get(tag).attrs["RootFS"]["Layers"][-1]


def buildkit_build(engine: docker.DockerClient, context: bytes, tag: str, base_image: str) -> None:
    """Build `context` with the engine's BuildKit; fail on the first error it streams."""
    api = engine.api
    params = {"version": "2", "t": tag, "rm": "1", "buildargs": json.dumps({"BASE_IMAGE": base_image})}
    url = f"{api.base_url}/v{api.api_version}/build"
    response = api.post(url, params=params, data=context, headers={"Content-Type": "application/x-tar"}, stream=True)
    response.raise_for_status()
    messages = [json.loads(line) for line in response.iter_lines() if line.strip()]
    assert [m["error"] for m in messages if "error" in m] == []
    assert any(m.get("id") == "moby.buildkit.trace" for m in messages)  # BuildKit built it, not the classic builder


def test_buildkit_builds_the_code_layer_the_classic_builder_builds_and_the_commit_computes(
    sandbox: Sandbox, docker_client: docker.DockerClient, base_image: str
) -> None:
    repo = Repository(sandbox.repo)
    classic = build.build(sandbox.settings, docker_client, repo, say=quiet)
    tag = f"{sandbox.settings.image_repo}:buildkit"
    buildkit_build(docker_client, buildcontext.of(repo, classic.commit), tag, base_image)
    release = sandbox.settings.release_image(classic.commit)
    assert (code_layer(docker_client, tag), code_layer(docker_client, release)) == (
        codelayer.of(repo, classic.commit),
    ) * 2
    print(f"code layer {codelayer.of(repo, classic.commit)}: classic builder == BuildKit == computed from the commit")


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
        release = sandbox.settings.release_image(here.commit)
        assert there.commit == here.commit
        assert (code_layer(other, release), code_layer(docker_client, release)) == (
            codelayer.of(repo, here.commit),
        ) * 2
        assert other.images.get(release).labels == docker_client.images.get(release).labels
