"""Two containers of one service (#23): verify and status judge the live release's own, by id, and name the other.

- A bot of another release started by hand beside the live one stands by for the lock: verify judges the
  live bot (its points equal the live commit) and fails `one running container` naming the other, with its
  image and stage; status shows both, with their roles and stages, and names the other as a disagreement.
- A deploy's standbys, waiting beside the live release while the deploy is in progress: a verify from
  another process judges the release that still trades (the ledger's, though `:live` already names the
  new image) and passes, the standbys named as the deploy's; status shows them as its standbys.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from docker.models.containers import Container

from deploy.engine import execs
from deploy.engine.git import Repository
from deploy.ids import short
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.steps import casting, handover, roles
from deploy.steps.status import status
from deploy.verify import VerifyReport, verify
from tests.integration.test_handover import release_two
from testsupport.cli import ROOT, cli_env
from testsupport.sandbox import Sandbox, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")

HOLD = "/var/lib/tradebot/hold"  # while it exists, a release-two worker waits before its lock (`held_worker`)
WAIT_SECONDS = 120


def started_by_hand(box: Sandbox, service: str, image_id: str) -> Container:
    """A container of `image_id` made like the live one of `service` (settings, labels, volumes), its own hostname."""
    live = box.engine.containers.get(handover.name(box.settings, service))
    config = live.attrs["Config"]
    made = box.engine.api.create_container(
        image_id,
        command=config["Cmd"],
        entrypoint=config["Entrypoint"],
        user=config["User"],
        environment=config["Env"],
        labels=config["Labels"],
        working_dir=config["WorkingDir"],
        healthcheck=config.get("Healthcheck"),
        host_config=live.attrs["HostConfig"],
        name=f"{box.settings.project}-{service}-by-hand",
    )
    box.engine.api.start(made["Id"])
    return box.engine.containers.get(made["Id"])


def wait_for_stage(box: Sandbox, container: str, stage: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while roles.stage_of(box.engine, container) != stage:
        assert time.monotonic() < deadline, f"{container} never said {stage}"
        time.sleep(0.2)


def point(report: VerifyReport, name: str) -> bool:
    (found,) = [p for p in report.points if p.name == name]
    return found.ok


def one_running(report: VerifyReport, service: str) -> tuple[bool, str]:
    (found,) = [c for c in report.checks if c.target == service and c.name == "one running container"]
    return found.ok, found.detail


def test_verify_judges_the_live_bot_and_names_a_standby_of_another_release_started_by_hand(sandbox: Sandbox) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    first = build.build(settings, engine, repo, say=quiet)
    deploying.deploy(settings, engine, repo, say=quiet)
    release_two(sandbox)
    second = build.build(settings, engine, repo, say=quiet)
    live_bot = engine.containers.get(handover.name(settings, "bot"))
    hand = started_by_hand(sandbox, "bot", second.image_id)  # newer: the engine lists it first
    wait_for_stage(sandbox, hand.id or "", "standing_by")

    report = verify(settings, engine, repo)
    assert report.release == first.commit
    assert point(report, "bot container") and point(report, "bot imported"), report.summary()
    ok, detail = one_running(report, "bot")
    assert not ok and detail == (
        f"{hand.name} (image {short(second.image_id)}, stage standing_by) stands by for the bot lock, "
        "and no deploy in progress started it"
    )
    assert one_running(report, "worker") == (True, "")

    shown = {c.name: c for c in status(settings, engine).containers}
    assert (shown[live_bot.name].role, shown[hand.name].role) == (casting.LIVE, casting.BESIDE)
    assert shown[hand.name].stage == "standing_by"
    assert detail in status(settings, engine).disagreements


def held_worker(box: Sandbox) -> None:
    """Release two, whose worker waits while `HOLD` exists, after `configured` and before it asks for its lock."""
    cli = (box.repo / "trading/cli.py").read_text()
    anchor = '    lock = rolelock.take(settings, "worker"'
    hold = f"    while os.path.exists({HOLD!r}):\n        __import__('time').sleep(0.05)\n"
    assert cli.count(anchor) == 1
    box.commit("release two: its worker waits for the test", {"trading/cli.py": cli.replace(anchor, hold + anchor)})


@pytest.fixture
def deploying_in_background(sandbox: Sandbox) -> Iterator[list[subprocess.Popen[str]]]:
    """The deploy started by the test (`invoke deploy` in a process of its own); stopped if the test fails."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_a_deploys_standbys_beside_the_live_release_are_expected_and_verify_judges_the_release_that_trades(
    sandbox: Sandbox, deploying_in_background: list[subprocess.Popen[str]]
) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    first = build.build(settings, engine, repo, say=quiet)
    deploying.deploy(settings, engine, repo, say=quiet)
    old = {service: engine.containers.get(handover.name(settings, service)) for service in ("bot", "worker")}
    held_worker(sandbox)
    second = build.build(settings, engine, repo, say=quiet)
    assert execs.run(old["worker"], ["touch", HOLD]).exit_code == 0
    env = cli_env(sandbox, TRADEBOT_START_STALL=str(WAIT_SECONDS))  # the held worker makes no progress meanwhile
    argv = [sys.executable, "-m", "invoke", "deploy"]
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deploying_in_background.append(process)
    new = wait_for_standbys(sandbox, second.image_id)
    wait_for_stage(sandbox, new["bot"], "standing_by")

    report = verify(settings, engine, repo)
    assert report.ok and report.release == first.commit, report.summary()
    for service in ("bot", "worker"):
        ok, detail = one_running(report, service)
        assert ok and f"stands by for the deploy of {short(second.commit)} in progress" in detail, detail
    shown = status(settings, engine)
    roles_shown = {c.name: c.role for c in shown.containers}
    assert [roles_shown[c.name or ""] for c in old.values()] == [casting.LIVE, casting.LIVE]
    assert sorted(c.role for c in shown.containers) == [casting.LIVE, casting.LIVE, casting.ARRIVING, casting.ARRIVING]
    assert shown.in_progress and not shown.disagreements, shown.disagreements
    assert shown.release is not None and shown.release.commit == first.commit  # the release that trades, not :live

    assert execs.run(old["bot"], ["rm", HOLD]).exit_code == 0
    out, _ = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, out
    assert (after := verify(settings, engine, repo)).ok and after.release == second.commit, after.summary()


def wait_for_standbys(box: Sandbox, image_id: str) -> dict[str, str]:
    """The ids of the bot and worker of `image_id` once both run."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = roles.of_image(box.settings, box.engine, image_id)
        if all(len(ids) == 1 for ids in found.values()):
            return {service: ids[0] for service, ids in found.items()}
        assert time.monotonic() < deadline, found
        time.sleep(0.2)
