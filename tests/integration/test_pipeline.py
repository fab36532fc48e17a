"""The pipeline against the real engine: build → deploy → verify, a new commit, rollback, a broken release.

Each test deploys its own sandbox project through the library functions the
tasks call (`deploy.procedures.build`, `.deploy`, `.rollback`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import tarfile
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import docker
import pytest

from deploy.engine import execs
from deploy.engine.git import Repository
from deploy.errors import DeployError, DirtyImage, DirtyTree
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.procedures import rollback as rolling_back
from deploy.procedures.procedure import Attempt
from deploy.procedures.trail import Trail
from deploy.records import ledger
from deploy.records.view import EngineRecords
from deploy.steps import backups, images, tags
from deploy.steps.images import ReleaseImage
from deploy.steps.tags import LiveTags
from deploy.verify import verify
from testsupport.failing import hung_bot
from testsupport.sandbox import Sandbox, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")
T = TypeVar("T")
MARKED = "trading/strategy.py"  # imported by the bot and the worker
MARKER = "RELEASE_MARKER = 'two'\n"


def service_file(box: Sandbox, service: str, path: str) -> str:
    labels = [f"com.docker.compose.project={box.settings.project}", f"com.docker.compose.service={service}"]
    (container,) = box.engine.containers.list(filters={"label": labels})
    result = execs.run(container, ["cat", f"/app/{path}"])
    assert result.exit_code == 0, result.stderr
    return result.stdout.decode()


def image_file(engine: docker.DockerClient, image: str, path: str) -> str:
    probe = engine.containers.create(image, command=["true"], network_disabled=True)
    try:
        stream, _ = probe.get_archive(f"/app/{path}")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            member = archive.extractfile(path.rsplit("/", 1)[-1])
            assert member is not None
            return member.read().decode()
    finally:
        probe.remove(force=True, v=True)


@contextlib.contextmanager
def live_events(
    engine: docker.DockerClient, filters: dict[str, Any], keep: Callable[[dict[str, Any]], T]
) -> Iterator[list[T]]:
    """`keep(event)` of each engine event matching `filters` during the block, live, in the engine's order.

    Live, not replayed with `since`: the engine keeps only its last 256 events.
    """
    stream = engine.events(decode=True, filters=filters)
    seen: list[T] = []
    reader = threading.Thread(target=lambda: seen.extend(keep(e) for e in stream), daemon=True)
    reader.start()
    try:
        yield seen
    finally:
        stream.close()
        reader.join(timeout=10)


def bot_lifecycle(box: Sandbox) -> contextlib.AbstractContextManager[list[tuple[str, str]]]:
    """Collect `(container id, action)` of the project's bot starting and dying (`live_events`)."""
    labels = [f"com.docker.compose.project={box.settings.project}", "com.docker.compose.service=bot"]
    filters = {"type": "container", "label": labels, "event": ["start", "die"]}
    return live_events(box.engine, filters, lambda e: (e["id"], e["Action"]))


def untimed(step: str) -> str:
    """A step's name without the time in a backup's name (a plan and a run name their backup when they start)."""
    return re.sub(r"-backup-\S+", "-backup-<time>", step)


def build_and_deploy(box: Sandbox, repo: Repository) -> ReleaseImage:
    built = build.build(box.settings, box.engine, repo, say=quiet)
    deploying.deploy(box.settings, box.engine, repo, rev=built.commit, say=quiet)
    return built


@pytest.mark.smoke
def test_build_deploy_verify_then_a_new_commit_then_rollback(sandbox: Sandbox) -> None:
    sandbox = dataclasses.replace(sandbox, settings=dataclasses.replace(sandbox.settings, keep_backups=1))
    repo, engine, settings = Repository(sandbox.repo), sandbox.engine, sandbox.settings
    first = build.build(settings, engine, repo, say=quiet)
    labels = engine.images.get(settings.release_image(first.commit)).labels
    assert labels[images.REVISION] == first.commit and labels[images.DIRTY] == "false"
    said: list[str] = []
    assert build.build(settings, engine, repo, say=said.append) == first
    assert said == [f"build: {first.tag_in(settings.image_repo)} exists ({first.image_id[7:19]}, recorded); reusing it"]
    one = deploying.deploy(settings, engine, repo, say=quiet)
    assert (one.image, one.previous, one.backup) == (first, "", "")
    assert (found := verify(settings, engine, repo)).ok, found.summary()

    second = sandbox.commit("release two", {MARKED: (sandbox.repo / MARKED).read_text() + MARKER})
    build.build(settings, engine, repo, say=quiet)
    kept = backups.listed(settings, engine)
    planned: list[str] = []
    deploying.plan(settings, engine, repo, say=planned.append)  # changes nothing
    assert engine.images.get(settings.live_image).id == first.image_id
    assert backups.listed(settings, engine) == kept and len(ledger.read(settings, engine)) == 1
    said: list[str] = []
    with bot_lifecycle(sandbox) as bot_events:
        two = deploying.deploy(settings, engine, repo, say=said.append)
    walked = [m.group(1) for line in said if (m := re.fullmatch(r"deploy: (.+) … ok \d+\.\d s(?:: .+)?", line))]
    planned = re.findall(r"^  \d+\. would (.*)$", "\n".join(planned), re.MULTILINE)  # the plan's steps
    plan_steps = [line.partition(": ")[0] for line in planned]
    # one list of steps; the backup's line comes when it ends, beside the standby start
    assert sorted(map(untimed, plan_steps)) == sorted(map(untimed, walked))
    assert [untimed(s) for s in plan_steps if not s.startswith("back up")] == [
        untimed(s) for s in walked if not s.startswith("back up")
    ]
    assert (
        plan_steps[:4]
        == [  # the runtime settings: checked by the standbys (stage `configured`)
            f"check the docker-compose.yml of {second[:12]}",
            f"check {second[:12]} against the security policy",
            f"check that {settings.state_volume} exists",
            f"check that only bot and worker mount {settings.state_volume}",
        ]
    )
    assert planned[0].endswith(" config --format json") and planned[1] == plan_steps[1]  # judged on what [0] read
    plan_steps, planned = plan_steps[4:], planned[4:]
    assert plan_steps[0].startswith(f"back up {settings.state_volume} into {settings.state_volume}-backup-")
    assert plan_steps[1] == (
        f"tag {engine.images.get(settings.live_image).id[7:19]} ({second[:12]}) as {settings.live_image}, "
        f"{first.image_id[7:19]} ({first.commit[:12]}) as {settings.previous_image}"
    )
    scale = "--scale bot=2 --scale worker=2 bot worker"
    assert planned[2].endswith(f" up -d --no-recreate --no-deps --no-build --pull never {scale}")  # beside the old
    assert (two.image and two.image.commit, two.previous) == (second, first.commit)
    (new_bot, started), (old_bot, died) = bot_events  # the new bot stands by before the old one stops
    assert (started, died) == ("start", "die") and old_bot != new_bot
    assert all(MARKER in service_file(sandbox, service, MARKED) for service in ("bot", "worker"))
    assert (found := verify(settings, engine, repo)).ok, found.summary()
    assert engine.images.get(settings.previous_image).id == first.image_id
    assert two.backup in [backup.name for backup in backups.listed(settings, engine)]
    assert "live_portfolio.json" in sandbox.volume_files(two.backup)

    back = rolling_back.rollback(settings, engine, repo, say=quiet)
    assert (back.image and back.image.image_id, back.previous) == (first.image_id, second)
    assert [backup.name for backup in backups.listed(settings, engine)] == [back.backup]  # kept 1 deep
    assert not any(MARKER in service_file(sandbox, service, MARKED) for service in ("bot", "worker"))
    report = verify(settings, engine, repo)
    assert report.ok and report.release == first.commit, report.summary()
    outcomes = [(e.event, e.commit, e.outcome) for e in ledger.read(settings, engine)]
    assert outcomes == [
        ("deploy", first.commit, ledger.SUCCEEDED),
        ("deploy", second, ledger.SUCCEEDED),
        ("rollback", first.commit, ledger.SUCCEEDED),
    ]


def test_an_uncommitted_edit_never_reaches_an_image(sandbox: Sandbox) -> None:
    repo, engine, settings = Repository(sandbox.repo), sandbox.engine, sandbox.settings
    committed = (sandbox.repo / MARKED).read_text()
    sandbox.write(MARKED, committed + "UNCOMMITTED = True\n")
    with pytest.raises(DirtyTree) as refused:
        build.build(settings, engine, repo, say=quiet)
    assert refused.value.data["paths"] == [MARKED]

    dirty = build.build(settings, engine, repo, allow_dirty=True, say=quiet)
    assert dirty.tag_in(settings.image_repo) == f"{settings.release_image(dirty.commit)}-dirty" and dirty.dirty
    assert engine.images.get(dirty.tag_in(settings.image_repo)).labels[images.DIRTY] == "true"
    assert image_file(engine, dirty.tag_in(settings.image_repo), MARKED) == committed
    with pytest.raises(DirtyImage):
        deploying.deploy(settings, engine, repo, say=quiet)
    assert not engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={settings.project}"})
    assert deploying.deploy(settings, engine, repo, force=True, say=quiet).image == dirty
    assert ledger.read(settings, engine)[-1].dirty
    assert service_file(sandbox, "bot", MARKED) == committed
    assert (found := verify(settings, engine, repo)).ok, found.summary()


def test_a_first_release_that_hangs_is_taken_down_without_a_grace_period_and_recorded(sandbox: Sandbox) -> None:
    settings = dataclasses.replace(sandbox.settings, start_stall=6)  # only a release meant to fail starts
    repo, engine, trail = Repository(sandbox.repo), sandbox.engine, Trail()
    broken = hung_bot(sandbox)
    build.build(settings, engine, repo, say=quiet)

    with pytest.raises(DeployError, match="no earlier release, bot and worker removed") as failed:
        deploying.deploy(settings, engine, repo, say=quiet, trail=trail)
    assert "did not start: bot made no progress for" in str(failed.value) and "stage state_loaded" in str(failed.value)
    removal = trail.steps[-1]  # `down --timeout 1`, not the 30 s stop grace a bot that ignores SIGTERM would wait out
    assert removal.name.startswith("stop and remove bot and worker") and "1 s to stop: it failed" in removal.name
    assert not engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={settings.project}"})
    assert not engine.images.list(name=settings.live_image)
    (entry,) = ledger.read(settings, engine)
    assert (entry.commit, entry.outcome, entry.previous) == (broken, ledger.FAILED, "")


def test_prune_keeps_live_previous_and_the_newest_successes_and_lets_a_run_of_failed_releases_go_first(
    sandbox: Sandbox,
) -> None:
    """Three releases that succeeded, then two that failed (as the ledger on the engine records them)."""
    settings = dataclasses.replace(sandbox.settings, keep_releases=1)
    repo, engine = Repository(sandbox.repo), sandbox.engine
    built = [build.build(settings, engine, repo, say=quiet)]
    for n in range(1, 5):
        sandbox.commit(f"release {n}", {MARKED: (sandbox.repo / MARKED).read_text() + f"# {n}\n"})
        built.append(build.build(settings, engine, repo, say=quiet))
    for image, outcome in zip(built, [ledger.SUCCEEDED] * 3 + [ledger.FAILED] * 2, strict=True):
        ledger.append(settings, engine, Attempt("deploy", image, LiveTags(None, None)).entry(image, outcome))
    engine.images.get(built[1].image_id).tag(settings.image_repo, "previous")
    engine.images.get(built[2].image_id).tag(settings.image_repo, "live")

    pruned = tags.prune(settings, engine, quiet, EngineRecords(settings, engine))
    tag = [image.tag_in(settings.image_repo) for image in built]
    assert pruned == [tag[4], tag[3]]
    found = engine.images.list(name=settings.image_repo)
    assert {t for image in found for t in images.own_tags(image.tags, settings.image_repo)} == {
        tag[0],  # the newest success that is neither live nor previous: newer failures went instead
        tag[1],
        settings.previous_image,
        tag[2],
        settings.live_image,
    }
    assert engine.images.get(settings.base_image or "")


def test_a_deploy_judges_the_start_by_its_stages_and_runs_no_health_check_of_its_own(sandbox: Sandbox) -> None:
    """The wait reads the stage lines; verify right after counts the containers the wait saw run as probed.

    The engine's own checks are put 30 s apart, so every health-check exec during the deploy would be the pipeline's.
    """
    compose_file = (sandbox.repo / "docker-compose.yml").read_text()
    assert compose_file.count("interval: 5s") == 2
    sandbox.commit(
        "health checks 30 s apart", {"docker-compose.yml": compose_file.replace("interval: 5s", "interval: 30s")}
    )
    engine, repo, trail = sandbox.engine, Repository(sandbox.repo), Trail()
    build.build(sandbox.settings, engine, repo, say=quiet)
    filters = {"type": "container", "label": f"com.docker.compose.project={sandbox.settings.project}"}
    with live_events(engine, filters, lambda e: e) as events:
        deploying.deploy(sandbox.settings, engine, repo, say=quiet, trail=trail)
    health_execs = [e for e in events if e["Action"].startswith("exec_create:") and "-m trading health" in e["Action"]]
    assert health_execs == []
    (waited,) = [step for step in trail.steps if step.name == "wait until bot and worker run"]
    assert waited.ok
