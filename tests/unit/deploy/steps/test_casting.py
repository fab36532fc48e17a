"""Which container of a service is judged, and what every other one is (`casting`), on the cases of a standby
handover and of a container started by hand beside the live one."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from deploy.steps import casting
from deploy.steps.casting import Arriving, Seen

OLD, NEW, HAND = "sha256:" + "1" * 64, "sha256:" + "2" * 64, "sha256:" + "3" * 64
STABLE = {"bot": "p-bot-1", "worker": "p-worker-1"}
DEPLOYING = Arriving(NEW, "the deploy of 222222222222 in progress (ci (pid 7, deploy))")


def box(
    cid: str, service: str, image: str, stage: str | None = "running", running: bool = True, at: str = "t1"
) -> Seen:
    return Seen(cid, f"p-{service}-{cid}", service, image, running, at, stage)


def live_ones() -> list[Seen]:
    return [dataclasses.replace(box("1", "bot", OLD), name="p-bot-1"), box("w1", "worker", OLD)]


def roles_of(cast: dict[str, list[casting.Role]], service: str) -> list[tuple[str, str]]:
    return [(r.seen.id, r.role) for r in cast[service]]


def test_a_standby_started_by_hand_beside_the_live_bot_is_named_and_the_live_one_judged() -> None:
    hand = box("9", "bot", HAND, "standing_by", at="t9")  # newer: the engine lists it first
    cast = casting.cast([hand, *live_ones()], OLD, STABLE)
    assert roles_of(cast, "bot") == [("1", casting.LIVE), ("9", casting.BESIDE)]
    assert casting.judged(cast["bot"]) == live_ones()[0]
    [why] = [r.why for r in casting.beside(cast["bot"])]
    assert why == (
        "p-bot-9 (image 333333333333, stage standing_by) stands by for the bot lock, "
        "and no deploy in progress started it"
    )
    assert casting.beside(cast["worker"]) == []


def test_a_second_trading_container_of_the_live_image_is_beside_the_one_with_the_stable_name() -> None:
    twin = box("8", "bot", OLD, None, at="t0")  # older, no stage line in its tail: it trades as far as anyone knows
    cast = casting.cast([twin, *live_ones()], OLD, STABLE)
    assert roles_of(cast, "bot") == [("1", casting.LIVE), ("8", casting.BESIDE)]
    assert cast["bot"][1].why == "p-bot-8 (image 111111111111, no stage line) runs beside p-bot-1"


def test_the_one_that_trades_is_judged_before_a_standby_of_the_same_image() -> None:
    standby = dataclasses.replace(box("1", "bot", OLD, "standing_by"), name="p-bot-1")
    trader = box("5", "bot", OLD, "running", at="t5")
    assert casting.judged(casting.cast([standby, trader], OLD, STABLE)["bot"]) == trader


def test_a_deploys_standby_is_expected_and_the_release_of_the_ledger_still_runs() -> None:
    standbys = [box("2", "bot", NEW, "standing_by", at="t2"), box("w2", "worker", NEW, "imported", at="t2")]
    seen = [*standbys, *live_ones()]
    live = casting.live_image(NEW, DEPLOYING, OLD, seen)  # `:live` names the new image already
    assert live == OLD
    cast = casting.cast(seen, live, STABLE, DEPLOYING)
    assert roles_of(cast, "bot") == [("1", casting.LIVE), ("2", casting.ARRIVING)]
    assert roles_of(cast, "worker") == [("w1", casting.LIVE), ("w2", casting.ARRIVING)]
    assert cast["worker"][1].why.endswith("stage imported) stands by for " + DEPLOYING.what)
    assert all(casting.beside(found) == [] for found in cast.values())


def test_once_the_new_bot_took_its_lock_the_live_tag_names_the_release_that_runs() -> None:
    took = [box("2", "bot", NEW, "locked", at="t2"), box("w2", "worker", NEW, "standing_by", at="t2")]
    stopped = [dataclasses.replace(s, running=False, stage="stopped") for s in live_ones()]
    seen = [*took, *stopped]
    assert casting.live_image(NEW, DEPLOYING, OLD, seen) == NEW
    cast = casting.cast(seen, NEW, STABLE, DEPLOYING)
    assert roles_of(cast, "bot") == [("2", casting.LIVE), ("1", casting.STOPPED)]
    assert casting.judged(cast["worker"]) == took[1]


def test_without_an_attempt_in_progress_the_live_tag_is_the_release() -> None:
    seen = [box("2", "bot", NEW, "standing_by"), *live_ones()]
    assert casting.live_image(NEW, None, OLD, seen) == NEW
    assert casting.live_image(NEW, DEPLOYING, None, seen) == NEW  # a first deploy: nothing ran before
    other = Arriving(HAND, "the rollback of 333333333333 in progress")
    assert casting.live_image(NEW, other, OLD, seen) == NEW


def test_a_procedures_chosen_ids_are_judged_and_every_other_running_one_is_beside() -> None:
    seen = [box("2", "bot", NEW, "running", at="t2"), *live_ones()]
    cast = casting.cast(seen, NEW, STABLE, chosen={"bot": "2", "worker": "w1"})
    assert roles_of(cast, "bot") == [("2", casting.LIVE), ("1", casting.BESIDE)]
    assert casting.judged(casting.cast(seen, NEW, STABLE, chosen={"bot": "gone"})["bot"]) is None


def test_no_container_of_the_live_image_the_newest_running_one_is_judged_not_the_attempts_standby() -> None:
    seen = [box("7", "bot", HAND, None, at="t7"), box("2", "bot", NEW, "standing_by", at="t8")]
    cast = casting.cast(seen, OLD, STABLE, DEPLOYING)
    assert roles_of(cast, "bot") == [("7", casting.LIVE), ("2", casting.ARRIVING)]
    assert cast["worker"] == []


SEEN = st.builds(
    Seen,
    id=st.sampled_from("abcdefgh"),
    name=st.sampled_from(["p-bot-1", "p-bot-2", "p-worker-1", "x"]),
    service=st.sampled_from(["bot", "worker", "evil"]),
    image_id=st.sampled_from([OLD, NEW, HAND]),
    running=st.booleans(),
    created=st.sampled_from(["t1", "t2", "t3"]),
    stage=st.sampled_from([None, "imported", "standing_by", "locked", "running", "stopped"]),
)


@given(st.lists(SEEN, unique_by=lambda s: s.id), st.sampled_from([OLD, NEW]), st.sampled_from([None, DEPLOYING]))
def test_every_container_of_a_service_has_one_role_and_at_most_one_is_judged(
    seen: list[Seen], live: str, arriving: Arriving | None
) -> None:
    cast = casting.cast(seen, live, STABLE, arriving)
    for service, found in cast.items():
        assert sorted(r.seen.id for r in found) == sorted(s.id for s in seen if s.service == service)
        judged = [r for r in found if r.role == casting.LIVE]
        assert len(judged) <= 1 and all(r.seen.running for r in judged)
        assert (not judged) == (not any(s.running for s in seen if s.service == service))
        assert all(r.role == casting.STOPPED for r in found if not r.seen.running)
