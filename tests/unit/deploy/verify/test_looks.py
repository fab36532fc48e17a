"""Whether a starting container counts as healthy (`looks._probe`): a start judged moments ago counts only while
the container's own heartbeat is there; otherwise its health check runs, and what it said is the detail."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, ClassVar

import pytest

from deploy.steps import casting, health
from deploy.steps.casting import Seen
from deploy.verify import looks
from deploy.verify.checks import inspect_checks


class Box:
    id = "c1"
    attrs: ClassVar[dict[str, Any]] = {"Config": {"Hostname": "c1host"}, "State": {"Health": {"Status": "starting"}}}


def reads(hostname: str | None) -> looks.Reads:
    beat: Future[dict[str, Any]] = Future()
    beat.set_result({"heartbeat": {"hostname": hostname} if hostname else None})
    return looks.Reads(Future(), Future(), beat)


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []

    def probed(container: Box) -> tuple[bool, str]:
        ran.append(container.id)
        return False, "/var/lib/tradebot is full (4.0 of 4.0 MiB used)"

    monkeypatch.setattr(health, "probed", probed)
    return ran


def test_a_start_judged_moments_ago_with_its_own_heartbeat_is_not_probed_again(probes: list[str]) -> None:
    assert looks._probe(Box(), reads("c1host"), frozenset({"c1"})) == (True, "")  # type: ignore[arg-type]
    assert probes == []


def test_without_its_own_heartbeat_the_health_check_runs_and_says_why(probes: list[str]) -> None:
    ok, said = looks._probe(Box(), reads("oldhost"), frozenset({"c1"}))  # type: ignore[arg-type]
    assert (ok, probes) == (False, ["c1"])
    [healthy] = [c for c in inspect_checks("bot", {**Box.attrs, "HostConfig": {}}, "", ok, said) if c.name == "healthy"]
    assert healthy.detail == "starting, probe failed: /var/lib/tradebot is full (4.0 of 4.0 MiB used)"


def test_one_running_container_fails_naming_a_container_beside_the_live_one_and_passes_a_deploys_standby() -> None:
    live = Seen("1", "p-bot-1", "bot", "sha256:1", True, "t1", "running")
    hand = Seen("9", "p-bot-9", "bot", "sha256:3", True, "t9", "standing_by")
    cast = casting.cast([hand, live], "sha256:1", {"bot": "p-bot-1"})
    one = looks.one_check("bot", cast["bot"])
    assert not one.ok and one.detail.startswith("p-bot-9 (image 3, stage standing_by) stands by for the bot lock")
    deploying = casting.Arriving("sha256:3", "the deploy of 3 in progress")
    one = looks.one_check("bot", casting.cast([hand, live], "sha256:1", {"bot": "p-bot-1"}, deploying)["bot"])
    assert one.ok and one.detail == "p-bot-9 (image 3, stage standing_by) stands by for the deploy of 3 in progress"
    assert looks.one_check("bot", casting.cast([live], "sha256:1", {"bot": "p-bot-1"})["bot"]).detail == ""
