"""`invoke build deploy verify` as operators run it: one process, and the release verified once."""

from __future__ import annotations

import json

import pytest

from testsupport.cli import invoke
from testsupport.sandbox import Sandbox

REUSED = "verify: as the deploy before it verified"


@pytest.mark.smoke
def test_the_line_verifies_once_and_verify_alone_asks_everything(sandbox: Sandbox, fast_ticks: None) -> None:
    line = invoke(sandbox, "build", "deploy", "verify", "--json")
    assert line.returncode == 0, line.stdout + line.stderr
    report = json.loads(line.stdout[line.stdout.index('{\n  "ok"') :])
    assert report["ok"] and REUSED in line.stderr
    alone = invoke(sandbox, "verify", "--json")
    assert alone.returncode == 0 and json.loads(alone.stdout)["ok"] and REUSED not in alone.stderr
