"""`logs --since` and `--service`: what an operator may write, and what is refused in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deploy.errors import ConfigError
from deploy.steps.logs import services_of, since_of

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "back"), [("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400)])
def test_a_duration_is_that_long_before_now(text: str, back: int) -> None:
    assert since_of(text, NOW) == NOW - timedelta(seconds=back)


def test_a_time_is_taken_as_given_and_nothing_means_from_the_start() -> None:
    assert since_of("2026-11-22T03:00:00+00:00", NOW) == NOW - timedelta(hours=1)
    assert since_of("2026-11-22T03:00:00", NOW).tzinfo is not None  # a local time
    assert since_of("", NOW) is None


@pytest.mark.parametrize("text", ["10 minutes", "-5m", "yesterday", "5w"])
def test_anything_else_is_refused_saying_what_would_do(text: str) -> None:
    with pytest.raises(ConfigError, match="is no time") as caught:
        since_of(text, NOW)
    assert "10m" in caught.value.hint


def test_a_service_is_bot_or_worker() -> None:
    assert services_of("") == ("bot", "worker") and services_of("worker") == ("worker",)
    with pytest.raises(ConfigError, match="'web' is no service"):
        services_of("web")
