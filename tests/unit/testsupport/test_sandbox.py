"""The sandbox's start stall follows the host's setting, and never runs shorter than the product's default."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.config import Settings
from testsupport.sandbox import Sandbox, start_stall

DEFAULT = Settings().start_stall
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, DEFAULT),
        ({"TRADEBOT_START_STALL": "40"}, 40.0),
        ({"TRADEBOT_START_TIMEOUT": "40"}, 40.0),
        ({"TRADEBOT_START_STALL": "3"}, DEFAULT),
    ],
    ids=["unset: the default", "a loaded host's longer one", "its deprecated alias", "never shorter than the default"],
)
def test_the_start_deadline_is_the_hosts_never_shorter_than_the_default(
    environ: dict[str, str], expected: float
) -> None:
    assert start_stall(environ) == expected


def test_a_sandbox_and_an_operators_invoke_of_it_get_the_hosts_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEBOT_START_STALL", "40")
    box = Sandbox.create(ROOT, tmp_path, "p", "base", None)  # type: ignore[arg-type]  # no engine: nothing started
    assert box.settings.start_stall == 40.0 and box.environ()["TRADEBOT_START_STALL"] == "40"
