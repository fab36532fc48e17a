"""The runner: a command past its time is killed and named; a child's progress passes through, its output read."""

from __future__ import annotations

import sys
import time

import pytest

from deploy.engine.runner import Runner
from deploy.errors import CommandTimedOut


def test_a_command_past_its_time_is_killed_and_named() -> None:
    started = time.monotonic()
    with pytest.raises(CommandTimedOut) as caught:
        Runner().run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert time.monotonic() - started < 10
    assert "did not finish within 0.5 s and was killed" in caught.value.message
    assert caught.value.data["seconds"] == 0.5


def test_stderr_passes_through_while_stdout_is_read(capfd: pytest.CaptureFixture[str]) -> None:
    code = "import sys; print('document'); print('progress', file=sys.stderr)"
    done = Runner().run([sys.executable, "-c", code], stderr_through=True)
    assert (done.stdout, done.stderr) == ("document\n", "")
    assert capfd.readouterr().err == "progress\n"
