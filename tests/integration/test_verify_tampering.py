"""Verify against a real deployment: a clean deploy verifies, and each kind of tampering is named.

One deployment per module (the sandbox's first commit, through `deploy.procedures.deploy`);
each tampering test changes it, runs verify, and the autouse `restored` fixture
puts the release back (when it no longer verifies) and proves it verifies again,
so the cases stay independent.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from deploy.config import CODE_PATH, SERVICES
from deploy.engine.git import Repository
from deploy.records import ledger
from deploy.steps import buildcontext, codelayer, health
from deploy.verify import drift, processes, verify
from deploy.verify.checks import CODE_OWNER
from deploy.verify.codecompare import Difference, Kind
from tests.integration.verifying import (
    CHANGED,
    Deployed,
    compose_run,
    deploy_two_releases,
    failed_checks,
    point,
    put_back,
    run_verify,
    service,
)
from testsupport.sandbox import Sandbox, git
from testsupport.waiting import wait_for

CONTAINER_CHECKS = (
    "running",
    "one running container",
    "runs the live image",
    "read-only root filesystem",
    f"no mount over or under {CODE_PATH}",
    "no Docker socket mounted",
    "healthy",
    *processes.NAMES,
    CODE_OWNER,
    *drift.NAMES,
)


@pytest.fixture(scope="module")
def deployed(module_sandbox: Sandbox, docker_client: docker.DockerClient) -> Deployed:
    return deploy_two_releases(module_sandbox, docker_client)


@pytest.fixture(autouse=True)
def restored(deployed: Deployed) -> Iterator[None]:
    yield
    put_back(deployed)


def test_a_clean_deploy_verifies_with_all_points_equal(deployed: Deployed) -> None:
    report = run_verify(deployed)
    assert report.ok, report.summary()
    assert report.release == deployed.live.commit
    names = [p.name for p in report.points]
    assert names[:5] == ["commit", "label", "image", "bot container", "worker container"]
    assert "bot imported" in names
    assert {p.digest for p in report.points[:5]} == {deployed.live.code_digest}
    assert report.head_ahead == 1  # release B is committed, not deployed
    assert names[-3:] == ["code layer", "configuration", "release image"]
    layer = codelayer.of(deployed.repo, deployed.live.commit)
    assert report.points[-3].digest == layer
    assert report.points[-1].digest == deployed.live.image_id  # the very image the build recorded
    # the release's provenance: the label the build wrote and the ledger entry the deploy wrote name that layer
    recorded = ledger.read(deployed.box.settings, deployed.box.engine)[-1]
    assert (recorded.commit, {deployed.live.code_layer, recorded.code_layer}) == (deployed.live.commit, {layer})
    policy_checks = [c for c in report.checks if c.name.startswith("policy: ")]
    judged = sorted((c.target, c.name) for c in report.checks if not c.name.startswith("policy: "))
    around = [("state volume", "one writer"), ("meta volume", "one writer")]
    assert judged == sorted([*((service, name) for service in SERVICES for name in CONTAINER_CHECKS), *around])
    # each service's 18 host-access and 8 what-runs checks, and the project's `policy: services`
    assert len(policy_checks) == 2 * (18 + 8) + 1


def test_a_worker_of_another_release_is_named(deployed: Deployed) -> None:
    override = f"services:\n  worker:\n    image: {deployed.other.tag_in(deployed.box.settings.image_repo)}\n"
    compose_run(deployed, "up", "-d", "--no-deps", "worker", override=override)
    report = run_verify(deployed)
    assert not report.ok
    assert point(report, "worker container") == (Difference(CHANGED, Kind.CHANGED),)
    assert point(report, "bot container") == ()
    assert ("worker", "runs the live image") in failed_checks(report)
    assert "worker container differs (changed heartbeat.py)" in report.summary()


def test_a_worker_in_a_restart_loop_is_named_and_nothing_is_asked_inside(deployed: Deployed) -> None:
    """Root without capabilities cannot enter the runtime user's 0700 state directories: it crashes, again and again."""
    compose_run(deployed, "up", "-d", "--no-deps", "worker", override='services:\n  worker:\n    user: "0:0"\n')
    wait_for(lambda: worker(deployed).attrs["RestartCount"] > 0, timeout=30, what="the worker's restart")
    report = run_verify(deployed)
    assert not report.ok
    running = next(c for c in report.checks if (c.target, c.name) == ("worker", "running"))
    assert not running.ok and "restart" in running.detail
    assert ("worker", "process runs as non-root") not in {(c.target, c.name) for c in report.checks}


def test_a_worker_running_as_root_with_the_docker_socket_is_named(deployed: Deployed) -> None:
    """Root that may override file permissions, a writable root and the engine's socket: each named."""
    rootstate = f"{deployed.box.settings.project}_rootstate"  # its own files stay off the release's state
    override = (
        'services:\n  worker:\n    user: "0:0"\n    read_only: false\n    cap_add: [DAC_OVERRIDE]\n'
        "    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - rootstate:/var/lib/tradebot\n"
        f"volumes:\n  rootstate:\n    name: {rootstate}\n"
    )
    compose_run(deployed, "up", "-d", "--no-deps", "worker", override=override)
    # its first heartbeat on the fresh volume, however loaded the machine: this test judges how it runs
    wait_for(lambda: health.probe(worker(deployed)), timeout=60, what="the root worker's first heartbeat")
    report = run_verify(deployed)
    assert not report.ok
    assert point(report, "worker container") == ()  # the right code, run the wrong way
    assert failed_checks(report) == {
        ("worker", "process runs as non-root"),
        ("worker", "no Docker socket mounted"),
        ("worker", "read-only root filesystem"),
        ("worker", "root filesystem mounted read-only"),
        ("worker", "code owned by root, not writable by the runtime user"),
        ("worker", "processes: confined"),
        ("worker", "policy: user"),
        ("worker", "policy: read_only"),
        ("worker", "policy: cap_add"),
        ("worker", "policy: volumes"),
    }


@pytest.mark.parametrize(
    "change",
    ["environment:\n      TRADEBOT_SEED: '7'", "entrypoint: [python3, -m, trading]", "tmpfs: [/tmp, /scratch]"],
)
def test_a_bot_recreated_by_hand_with_the_same_image_but_another_configuration_is_named(
    deployed: Deployed, change: str
) -> None:
    compose_run(deployed, "up", "-d", "--no-deps", "bot", override=f"services:\n  bot:\n    {change}\n")
    report = run_verify(deployed)
    assert not report.ok
    assert point(report, "bot container") == () and ("bot", "runs the live image") not in failed_checks(report)
    (drift,) = point(report, "configuration")
    assert drift.startswith("bot's configuration drifted: config-hash ")
    assert "configuration differs (bot's configuration drifted" in report.summary()


def test_a_bot_changed_to_run_with_the_hosts_keys_is_named_by_setting(deployed: Deployed) -> None:
    """The issue's attack, made by hand after the deploy: privileged, host PID and network, the host's root mounted."""
    override = (
        "services:\n  bot:\n    privileged: true\n    pid: host\n    network_mode: host\n"
        "    cap_add: [SYS_ADMIN]\n    volumes:\n      - /:/host:ro\n"
    )
    compose_run(deployed, "up", "-d", "--no-deps", "bot", override=override)
    report = run_verify(deployed)
    assert not report.ok
    assert point(report, "bot container") == ()  # the right code, run with the host's keys
    assert {check for check in failed_checks(report) if check[1].startswith("policy: ")} == {
        ("bot", "policy: privileged"),
        ("bot", "policy: pid"),
        ("bot", "policy: network_mode"),
        ("bot", "policy: cap_add"),
        ("bot", "policy: volumes"),
    }
    assert "bot fails 'policy: volumes' (bind / at /host)" in report.summary()


def worker(d: Deployed) -> Container:
    return service(d, "worker")


def test_a_volume_over_the_code_path_is_named(deployed: Deployed) -> None:
    """The volume-shadowing trap: the bot runs code from a volume filled by another release."""
    shadow = f"{deployed.box.settings.project}_shadow"
    other = deployed.other.tag_in(deployed.box.settings.image_repo)
    filler = deployed.box.engine.containers.create(
        other, entrypoint=["true"], volumes={shadow: {"bind": "/app/trading"}}
    )
    filler.start()  # Docker fills a new named volume with the image's files at its mount point
    filler.wait(timeout=60)
    filler.remove(v=True)
    override = (
        "services:\n  bot:\n    volumes:\n      - shadow:/app/trading\n"
        f"volumes:\n  shadow:\n    name: {shadow}\n    external: true\n"
    )
    compose_run(deployed, "up", "-d", "--no-deps", "bot", override=override)
    report = run_verify(deployed)
    assert not report.ok
    assert point(report, "bot container") == (Difference(CHANGED, Kind.CHANGED),)
    assert point(report, "image") == ()
    assert ("bot", "no mount over or under /app/trading") in failed_checks(report)
    assert ("bot", "runs the live image") not in failed_checks(report)
    imports = next(c for c in report.checks if (c.target, c.name) == ("bot", processes.IMPORTS))
    assert "/app/trading is a mount point" in imports.detail  # the kernel's mounts say so too


def test_an_image_whose_file_differs_from_its_commit_is_named(deployed: Deployed) -> None:
    """An image labelled as the live commit, but built from a context with one file changed."""
    engine, settings = deployed.box.engine, deployed.box.settings
    labels = engine.images.get(deployed.live.image_id).labels
    changed = f"{buildcontext.CODE_PREFIX}/{CHANGED}"
    context = tampered_context(buildcontext.of(deployed.repo, deployed.live.commit), changed)
    forged, _ = engine.images.build(
        fileobj=io.BytesIO(context),
        custom_context=True,
        labels=labels,
        buildargs={"BASE_IMAGE": settings.base_image},
        rm=True,
        forcerm=True,
    )
    forged.tag(settings.image_repo, "live")
    forged.tag(settings.image_repo, "forged")
    compose_run(deployed, "up", "-d", "--force-recreate", "bot", "worker")
    report = run_verify(deployed)
    assert not report.ok
    assert point(report, "label") == ()
    for name in ("image", "bot container", "worker container"):
        assert point(report, name) == (Difference(CHANGED, Kind.CHANGED),), name
    assert "image differs (changed heartbeat.py)" in report.summary()


def tampered_context(context: bytes, path: str) -> bytes:
    """The same tar with one more line in `path`."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(context)) as source, tarfile.open(fileobj=out, mode="w") as target:
        for member in source:
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name == path:
                data += b"\n# tampered\n"
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def test_the_release_commit_is_read_from_git_not_the_working_tree(deployed: Deployed) -> None:
    path: Path = deployed.box.repo / "trading" / CHANGED
    before = path.read_text()
    path.write_text(before + "\n# uncommitted\n")
    try:
        report = run_verify(deployed)
        assert report.ok, report.summary()
    finally:
        path.write_text(before)


def test_a_release_this_clone_lacks_is_verified_against_its_release_record(deployed: Deployed, tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "other")
    report = verify(deployed.box.settings, deployed.box.engine, Repository(tmp_path))
    assert report.ok and report.release == deployed.live.commit, report.summary()
