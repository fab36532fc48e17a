import dataclasses

from deploy.records.journal import STARTED
from deploy.records.ledger import FAILED, SUCCEEDED, Entry
from deploy.steps import casting
from deploy.steps.casting import Seen
from deploy.steps.images import ReleaseImage
from deploy.steps.lock import Holder
from deploy.steps.status import (
    ContainerState,
    Status,
    container_state,
    deployed_at,
    disagreements,
    heartbeat_of,
    in_progress,
    render,
    undeclared,
)

COMMIT = "c" * 40
IMAGE = "sha256:" + "1" * 64
STABLE = {"bot": "p-bot-1", "worker": "p-worker-1"}


def entry(commit: str, outcome: str, finished: str, image_id: str = IMAGE) -> Entry:
    return Entry("deploy", commit, image_id, "d", "t0", finished, "op", outcome)


def test_deployed_at_is_the_newest_success_of_the_live_image() -> None:
    entries = [
        entry(COMMIT, SUCCEEDED, "t1"),
        entry("o" * 40, SUCCEEDED, "t2"),
        entry(COMMIT, SUCCEEDED, "t3"),
        entry(COMMIT, FAILED, "t4"),
        entry(COMMIT, SUCCEEDED, "t5", image_id="sha256:other"),
    ]
    assert deployed_at(entries, COMMIT, IMAGE) == "t3"
    assert deployed_at([], COMMIT, IMAGE) == ""


def test_the_live_release_in_json_is_its_labels_and_when_it_was_deployed() -> None:
    labels = {
        "org.opencontainers.image.revision": COMMIT,
        "org.opencontainers.image.created": "2026-01-01T00:00:00Z",
        "org.opencontainers.image.version": "c0ffee",
        "io.tradebot.dirty": "false",
    }
    live = ReleaseImage.from_labels(IMAGE, labels, ["p:live"])
    release = Status("p", live, "t9", (), None).to_json()["release"]
    assert release == {
        "commit": COMMIT,
        "image_id": IMAGE,
        "version": "c0ffee",
        "dirty": False,
        "built_at": "2026-01-01T00:00:00Z",
        "deployed_at": "t9",
    }
    assert f"live release {COMMIT[:12]} (c0ffee), image 111111111111" in render(Status("p", live, "t9", (), None))


def test_container_state_reads_inspect_data_without_health() -> None:
    attrs = {
        "Name": "/p-bot-1",
        "Image": IMAGE,
        "Config": {"Labels": {"com.docker.compose.service": "bot"}},
        "State": {"Status": "exited", "StartedAt": "2026-01-01T00:00:00.1Z"},
    }
    assert container_state(attrs) == ContainerState("p-bot-1", "bot", "exited", "none", IMAGE, "2026-01-01T00:00:00.1Z")


def test_heartbeat_age_and_ticks() -> None:
    beat = heartbeat_of({"last_tick_ts": 100.0, "ticks": 42}, now=102.5)
    assert (beat.age_seconds, beat.ticks) == (2.5, 42)


def test_nothing_deployed_is_said_plainly() -> None:
    text = render(Status("p", None, "", (), None))
    assert text.splitlines() == ["project p", "nothing deployed (no live image)", "no containers"]
    assert Status("p", None, "", (), None).to_json() == {
        "deployed": False,
        "project": "p",
        "release": None,
        "containers": [],
        "bot": None,
        "disagreements": [],
        "in_progress": "",
        "compose": "",
    }


def test_disagreements_name_an_interrupted_attempt_a_foreign_container_and_a_live_tag_off_the_ledger() -> None:
    live = ReleaseImage(IMAGE, COMMIT, "d", dirty=False)
    ok = entry(COMMIT, SUCCEEDED, "t1")
    assert disagreements(live, [ContainerState("b", "bot", "running", "healthy", IMAGE, "t")], [ok]) == []
    started = dataclasses.replace(entry("n" * 40, STARTED, ""), attempt="a1", by="op@h")
    newer = entry("o" * 40, SUCCEEDED, "t2", image_id="sha256:" + "2" * 64)
    other = ContainerState("w", "worker", "running", "healthy", "sha256:" + "2" * 64, "t")
    found = disagreements(live, [other], [ok, newer], [started])
    assert found == [
        "an interrupted deploy of nnnnnnnnnnnn started t0 by op@h never finished; "
        "the next deploy, rollback or restore undoes it",
        "worker runs image 222222222222, not the live image 111111111111",
        "the ledger's last success is oooooooooooo, but cccccccccccc is live",
    ]
    assert "DISAGREES: worker runs image" in render(Status("p", live, "t1", (other,), None, tuple(found)))


def test_a_deploy_holding_the_lock_is_in_progress_not_interrupted() -> None:
    holder = Holder("ci@runner", "runner", 31337, "2026-11-22T04:00:00Z", "deploy nnnnnnn")
    alive, dead = (lambda _pid: True), (lambda _pid: False)
    said = in_progress(holder, "runner", alive)
    assert said == "deploy nnnnnnn in progress: held by ci@runner on runner (pid 31337) since 2026-11-22T04:00:00Z"
    assert in_progress(holder, "runner", dead) == ""  # died here: interrupted, the next deploy undoes it
    assert in_progress(holder, "laptop", dead).endswith("(if it died there: `tradebot unlock`)")
    assert in_progress(None, "runner", alive) == ""
    started = dataclasses.replace(entry("n" * 40, STARTED, ""), attempt="a1", by="ci@runner")
    assert disagreements(None, [], [], [started], running=True) == []
    assert disagreements(None, [], [], [started])[0].startswith("an interrupted deploy of nnnnnnnnnnnn")
    shown = render(Status("p", None, "", (), None, (), said, "docker compose v2.40.3 (Docker's plugin)")).splitlines()
    assert shown[-2:] == [f"IN PROGRESS: {said}", "compose: docker compose v2.40.3 (Docker's plugin)"]


def test_a_container_of_a_service_the_policy_does_not_declare_is_a_disagreement() -> None:
    found = [
        ContainerState("p-bot-1", "bot", "running", "healthy", "sha256:1", "t"),
        ContainerState("p-evil-1", "evil", "running", "none", "sha256:1", "t"),
    ]
    assert undeclared(found, ("bot", "worker")) == ["p-evil-1 is of service evil, which the policy does not declare"]


def test_two_bots_are_shown_with_their_roles_and_stages_and_the_one_no_deploy_started_disagrees() -> None:
    live = ReleaseImage(IMAGE, COMMIT, "d", dirty=False)
    hand_image = "sha256:" + "3" * 64
    standby = Seen("h", "p-bot-hand", "bot", hand_image, True, "t9", "standing_by")
    cast = casting.cast([standby, Seen("b", "p-bot-1", "bot", IMAGE, True, "t1", "running")], IMAGE, STABLE)
    roles = {r.seen.id: r for r in cast["bot"]}
    attrs = {"Name": "/p-bot-hand", "Config": {"Labels": {"com.docker.compose.service": "bot"}}, "Image": hand_image}
    shown = container_state(attrs, roles["h"])
    assert (shown.role, shown.stage) == ("beside", "standing_by")
    found = disagreements(live, [shown], [entry(COMMIT, SUCCEEDED, "t1")])
    assert found == [
        "p-bot-hand (image 333333333333, stage standing_by) stands by for the bot lock, "
        "and no deploy in progress started it"
    ]
    lines = render(Status("p", live, "t1", (shown,), None, tuple(found))).splitlines()
    assert "beside   standing_by  image 333333333333" in lines[3]
    assert lines[4].strip() == found[0]


def test_a_deploys_standby_is_no_disagreement_and_the_release_that_runs_is_the_ledgers() -> None:
    new = "sha256:" + "2" * 64
    live = ReleaseImage(new, "n" * 40, "d", dirty=False)  # `:live` is tagged before the standby starts
    arriving = casting.Arriving(new, "the deploy of nnnnnnnnnnnn in progress")
    seen = [
        Seen("b", "p-bot-1", "bot", IMAGE, True, "t1", None),
        Seen("s", "p-bot-2", "bot", new, True, "t2", "imported"),
    ]
    runs = casting.live_image(new, arriving, IMAGE, seen)
    roles = {r.seen.id: r for r in casting.cast(seen, runs, STABLE, arriving)["bot"]}
    states = [ContainerState("p-bot-1", "bot", "running", "healthy", IMAGE, "t", "", "live")]
    states.append(ContainerState("p-bot-2", "bot", "running", "healthy", new, "t", "imported", "standby"))
    assert roles["s"].role == states[1].role and roles["b"].role == states[0].role
    assert disagreements(live, states, [entry(COMMIT, SUCCEEDED, "t1")], running=True, runs=runs) == []
