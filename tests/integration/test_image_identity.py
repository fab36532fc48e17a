"""The whole image is the release (issue 18, attack 2): an image the pipeline did not build is named and never used.

The forged image is built from the live commit's own build context, its labels copied, with lines
added before `COPY rootfs/ /` that change the standard library's json as root: its code layer, its
labels and its trading/ are the release's, so only the image as a whole can tell it apart. Before,
verify said OK, the next deploy tagged it `:previous` and a plain rollback made it live again.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from deploy.engine import compose
from deploy.engine.client import compose_argv
from deploy.engine.git import Repository
from deploy.errors import ForeignImage
from deploy.procedures import build, rollback
from deploy.procedures import deploy as deploying
from deploy.records import builds, ledger
from deploy.records.view import EngineRecords
from deploy.steps import buildcontext, startup, tags
from deploy.steps.images import ReleaseImage
from deploy.verify import VerifyReport, render, verify
from testsupport.sandbox import Sandbox, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")
COPY = "COPY --chown=0:0 rootfs/ /"
UNDER_THE_CODE = (
    "USER 0\nRUN python3 -c \"import json; open(json.__file__, 'a').write('\\nFORGED = True\\n')\"\nUSER 10001:10001\n"
)


@dataclass
class Released:
    box: Sandbox
    repo: Repository
    first: ReleaseImage  # deployed, then B over it: `:previous`
    second: ReleaseImage  # live
    forged: str  # the image id of B forged


def with_lines_under_the_code(context: bytes) -> bytes:
    """The same build context, its Dockerfile with `UNDER_THE_CODE` inserted before the code layer's COPY."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(context)) as source, tarfile.open(fileobj=out, mode="w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name == "Dockerfile" and data is not None:
                assert COPY.encode() in data
                data = data.replace(COPY.encode(), (UNDER_THE_CODE + COPY).encode())
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def forge(box: Sandbox, repo: Repository, release: ReleaseImage) -> str:
    """`release` re-built from its commit's context with json changed under the code layer, labels copied."""
    labels = box.engine.images.get(release.image_id).labels
    context = with_lines_under_the_code(buildcontext.of(repo, release.commit, labels))
    forged, _ = box.engine.images.build(
        fileobj=io.BytesIO(context),
        custom_context=True,
        buildargs={"BASE_IMAGE": box.settings.base_image},
        rm=True,
        forcerm=True,
    )
    return str(forged.id)


def recreate(box: Sandbox) -> None:
    """`docker compose up --force-recreate` of bot and worker from what `:live` now is, as an engine user would."""
    argv = [*compose_argv(box.settings), "-f", str(box.repo / "docker-compose.yml"), "-p", box.settings.project]
    argv += ["up", "-d", "--force-recreate", "bot", "worker"]
    done = subprocess.run(argv, capture_output=True, text=True, env=compose.env(box.settings, os.environ))
    assert done.returncode == 0, done.stderr


def running(box: Sandbox) -> dict[str, tuple[str, str]]:
    label = {"label": f"com.docker.compose.project={box.settings.project}"}
    return {c.name: (c.id, c.attrs["State"]["StartedAt"]) for c in box.engine.containers.list(filters=label)}


def differs(report: VerifyReport) -> set[str]:
    return {p.name for p in report.points if not p.ok} | {f"{c.target}: {c.name}" for c in report.checks if not c.ok}


@pytest.fixture(scope="module")
def released(module_sandbox: Sandbox) -> Iterator[Released]:
    """A, then B deployed; B forged (removed at the end: untagged, the sandbox would not find it)."""
    box, repo = module_sandbox, Repository(module_sandbox.repo)
    first = build.build(box.settings, box.engine, repo, say=quiet)
    deploying.deploy(box.settings, box.engine, repo, rev=first.commit, say=quiet)
    box.commit("release B", {"trading/heartbeat.py": (box.repo / "trading/heartbeat.py").read_text() + "# B\n"})
    second = build.build(box.settings, box.engine, repo, say=quiet)
    deploying.deploy(box.settings, box.engine, repo, rev=second.commit, say=quiet)
    forged = forge(box, repo, second)
    yield Released(box, repo, first, second, forged)
    box.engine.images.remove(forged, force=True)


@pytest.fixture
def back_to_b(released: Released) -> Iterator[None]:
    """After each test: B's recorded image live and running, `:previous` A's, B's release tag B's."""
    yield
    box, engine = released.box, released.box.engine
    engine.images.get(released.second.image_id).tag(box.settings.image_repo, "live")
    engine.images.get(released.second.image_id).tag(box.settings.image_repo, released.second.commit)
    engine.images.get(released.first.image_id).tag(box.settings.image_repo, "previous")
    recreate(box)
    startup.wait_release(box.settings, engine, released.second.image_id, ran_before=True)


def test_the_build_records_the_image_and_every_layer_and_the_ledger_entry_carries_them(released: Released) -> None:
    box = released.box
    record = builds.of_image(builds.read(box.settings, box.engine), released.second.image_id)
    image = box.engine.images.get(released.second.image_id)
    assert record is not None and record.commit == released.second.commit
    assert list(record.layers) == image.attrs["RootFS"]["Layers"] and len(record.layers) >= 3
    assert record.base_id == box.engine.images.get(box.settings.base_image).id
    last = ledger.read(box.settings, box.engine)[-1]
    assert (last.image_id, last.layers, len(last.policy)) == (record.image_id, record.layers, 64)


@pytest.mark.usefixtures("back_to_b")
def test_a_live_image_rebuilt_under_the_code_layer_fails_only_the_release_image_point(released: Released) -> None:
    box = released.box
    forged = box.engine.images.get(released.forged)
    assert forged.labels == box.engine.images.get(released.second.image_id).labels
    assert forged.attrs["RootFS"]["Layers"][-1] == released.second.code_layer  # the commit's code layer, exactly
    forged.tag(box.settings.image_repo, "live")
    recreate(box)
    startup.wait_release(box.settings, box.engine, released.forged, ran_before=True)

    report = verify(box.settings, box.engine, released.repo)

    assert differs(report) == {"release image"}, render(report, verbose=True)
    problem = next(p for p in report.points if p.name == "release image").problems[0]
    assert problem.startswith(f"the live image is {released.forged[7:19]}, the build of {released.second.commit[:12]}")


@pytest.mark.usefixtures("back_to_b")
def test_a_deploy_never_tags_a_foreign_live_image_previous(released: Released) -> None:
    box = released.box
    box.engine.images.get(released.forged).tag(box.settings.image_repo, "live")
    said: list[str] = []

    deploying.deploy(box.settings, box.engine, released.repo, rev=released.first.commit, say=said.append)

    assert box.engine.images.get(box.settings.live_image).id == released.first.image_id
    assert box.engine.images.get(box.settings.previous_image).id != released.forged
    assert any("not built by this pipeline: not tagged previous" in line for line in said)


@pytest.mark.usefixtures("back_to_b")
def test_a_rollback_refuses_a_foreign_previous_and_changes_nothing(released: Released) -> None:
    box = released.box
    box.engine.images.get(released.forged).tag(box.settings.image_repo, "previous")
    before = running(box)

    with pytest.raises(ForeignImage) as refused:
        rollback.rollback(box.settings, box.engine, released.repo, say=quiet)

    assert refused.value.exit_code == 5
    assert (refused.value.data["image_id"], refused.value.data["recorded"]) == (
        released.forged,
        [released.second.image_id],
    )
    assert running(box) == before
    assert box.engine.images.get(box.settings.live_image).id == released.second.image_id


@pytest.mark.usefixtures("back_to_b")
def test_a_retagged_release_tag_is_refused_by_deploy_and_build_and_kept_by_prune(released: Released) -> None:
    box = released.box
    box.engine.images.get(released.forged).tag(box.settings.image_repo, released.second.commit)
    before = running(box)

    with pytest.raises(ForeignImage):
        deploying.deploy(box.settings, box.engine, released.repo, rev=released.second.commit, say=quiet)
    with pytest.raises(ForeignImage):
        build.build(box.settings, box.engine, released.repo, rev=released.second.commit, say=quiet)
    assert running(box) == before

    said: list[str] = []
    tags.prune(box.settings, box.engine, said.append, EngineRecords(box.settings, box.engine))
    assert box.engine.images.get(released.forged).tags == [f"{box.settings.image_repo}:{released.second.commit}"]
    assert any(f"not built by this pipeline, as evidence: {released.forged[7:19]}" in line for line in said)
