"""Whether a starting container counts as healthy (`looks._probe`): a start judged moments ago counts only while
the container's own heartbeat is there; otherwise its health check runs, and what it said is the detail."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, ClassVar

import pytest

from deploy.steps import health
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
