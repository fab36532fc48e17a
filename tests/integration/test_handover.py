"""The standby handover on the real engine (#23): the new bot stands by, takes over when the old one stops.

- A deploy hands over: the old containers are gone, the new ones carry the stable names, the tick gap is
  measured from the stage lines (the old bot's last tick before the new one's first), verify passes.
- A release whose bot cannot stand by is refused (exit 10): the old bot never stopped (same container,
  never restarted) and nothing of the new release is left.
- A backup that fails (it runs beside the standby start) is refused as a standby that fails: the old bot
  never stopped, the standbys are removed, the tags put back.
- A release that hangs after it took over: the old containers are started again by id, verified.
"""

from __future__ import annotations

import json
import time

import pytest

from deploy.engine.git import Repository
from deploy.errors import BackupFailed, RolledBack, StandbyFailed
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.procedures import report as reports
from deploy.procedures.trail import Trail
from deploy.records import ledger
from deploy.steps import liveness, roles
from deploy.steps.images import ReleaseImage
from deploy.verify import verify
from tests.integration.test_outcomes import CRASH_MAIN
from tests.integration.test_pipeline import MARKED, hung_bot
from testsupport.cli import invoke
from testsupport.sandbox import Sandbox, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")


def running(box: Sandbox) -> dict[str, tuple[str, str]]:
    """Service → (container id, name) of the project's containers, which must all run."""
    found = roles.of_project(box.settings, box.engine)
    assert all(c.status == "running" for containers in found.values() for c in containers), found
    return {service: (c.id or "", c.name or "") for service, containers in found.items() for c in containers}


def first_live(box: Sandbox) -> ReleaseImage:
    """The sandbox's commit built and deployed."""
    repo = Repository(box.repo)
    built = build.build(box.settings, box.engine, repo, say=quiet)
    deploying.deploy(box.settings, box.engine, repo, say=quiet)
    return built


def bot_started(box: Sandbox, restarts: int | None = None) -> str:
    """When the running bot's container started; `restarts`: how often the engine must have restarted it."""
    (bot,) = [c for c in roles.of_project(box.settings, box.engine)["bot"] if c.status == "running"]
    assert restarts is None or bot.attrs["RestartCount"] == restarts, bot.attrs["RestartCount"]
    return str(bot.attrs["State"]["StartedAt"])


def stage_docs(box: Sandbox, container: str) -> list[dict]:
    return liveness.parse_lines(box.engine.api.logs(container, stdout=False, stderr=True))


def release_two(box: Sandbox, n: int = 2) -> str:
    return box.commit(f"release {n}", {MARKED: (box.repo / MARKED).read_text() + f"# {n}\n"})


def test_a_deploy_hands_over_with_stable_names_and_a_tick_gap_from_the_stage_lines(sandbox: Sandbox) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    first_live(sandbox)
    for n in (2, 3):
        before = running(sandbox)
        commit = release_two(sandbox, n)
        build.build(settings, engine, repo, say=quiet)
        said: list[str] = []
        trail = Trail()
        deploying.deploy(settings, engine, repo, say=said.append, trail=trail)
        after = running(sandbox)
        assert {s: name for s, (_, name) in after.items()} == {s: f"{settings.project}-{s}-1" for s in after}
        assert not {cid for cid, _ in before.values()} & {cid for cid, _ in after.values()}
        assert any("by standby handover" in line for line in said), said
        # the new bot's first tick came after the old bot's last: never two traders (the gap is positive)
        assert trail.bot_down is not None and 0 < trail.bot_down < 5, trail.bot_down
        assert [d["stage"] for d in stage_docs(sandbox, after["bot"][0])].count("running") == 1
        assert verify(settings, engine, repo).release == commit
        last = ledger.read(settings, engine)[-1]
        assert last.outcome == ledger.SUCCEEDED
        assert reports.of_attempt(settings, engine, last.report).bot_down == trail.bot_down  # the report says it


def test_a_release_that_cannot_stand_by_is_refused_and_the_old_bot_never_stopped(sandbox: Sandbox) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    first_live(sandbox)
    before, started = running(sandbox), bot_started(sandbox)
    broken = sandbox.commit("bot crashes at start", {"trading/__main__.py": CRASH_MAIN})
    build.build(settings, engine, repo, say=quiet)

    with pytest.raises(StandbyFailed) as refused:
        deploying.deploy(settings, engine, repo, say=quiet)
    assert refused.value.exit_code == 10 and "never stopped" in refused.value.message
    assert "RuntimeError: boom: the bot cannot start" in refused.value.message
    assert running(sandbox) == before  # the same containers, nothing of the new release left
    assert bot_started(sandbox, restarts=0) == started
    last = ledger.read(settings, engine)[-1]
    assert (last.commit, last.outcome) == (broken, ledger.REFUSED) and last.evidence


def test_a_backup_that_fails_beside_the_standby_start_is_refused_and_the_old_bot_never_stopped(
    sandbox: Sandbox,
) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    good = first_live(sandbox)
    before, started = running(sandbox), bot_started(sandbox)
    # a file with SQLite's header and nothing a database holds: its copy cannot be proven
    sandbox.in_volume(settings.state_volume, "printf 'SQLite format 3\\000garbage' > /v/torn.sqlite3")
    release = release_two(sandbox)
    build.build(settings, engine, repo, say=quiet)

    said: list[str] = []
    with pytest.raises(BackupFailed) as refused:
        deploying.deploy(settings, engine, repo, say=said.append)
    assert refused.value.exit_code == 10 and "nothing was stopped" in refused.value.message
    assert any("start the bot and worker" in line for line in said), said  # the standbys had started beside it
    assert running(sandbox) == before  # the same containers, the standbys removed
    assert bot_started(sandbox, restarts=0) == started
    assert engine.images.get(settings.live_image).id == good.image_id  # the tags put back
    last = ledger.read(settings, engine)[-1]
    assert (last.commit, last.outcome) == (release, ledger.REFUSED) and "backing up" in last.cause
    assert not last.evidence  # the standbys' last words are no part of a backup's failure


def test_a_release_that_hangs_after_it_took_over_is_undone_by_starting_the_old_containers_again(
    sandbox: Sandbox,
) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    good = first_live(sandbox)
    before = running(sandbox)
    hung_bot(sandbox)
    build.build(settings, engine, repo, say=quiet)

    begun = time.monotonic()
    with pytest.raises(RolledBack) as rolled:
        deploying.deploy(settings, engine, repo, say=quiet)
    took = time.monotonic() - begun
    assert "bot made no progress" in str(rolled.value.data["cause"]), rolled.value
    assert running(sandbox) == before  # the old containers themselves, started again by id
    assert verify(settings, engine, repo).release == good.commit
    print(json.dumps({"hung release: deploy to the old release verified again, s": round(took, 1)}))


def test_deploy_stop_first_stops_the_old_release_before_the_new_one_starts(sandbox: Sandbox) -> None:
    """`invoke deploy --stop-first`: the escape hatch for a compose change Compose cannot make beside running
    containers; the switch is a recreate, the names are the stable ones all the same."""
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    first_live(sandbox)
    release_two(sandbox)
    build.build(settings, engine, repo, say=quiet)
    done = invoke(sandbox, "deploy", "--stop-first")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "by stop first" in done.stdout and "stand by" not in done.stdout
    after = running(sandbox)
    assert {s: name for s, (_, name) in after.items()} == {s: f"{settings.project}-{s}-1" for s in after}
