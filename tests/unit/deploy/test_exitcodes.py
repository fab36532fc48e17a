import pytest
from invoke.exceptions import Exit

from deploy.errors import DirtyTree, LockHeld
from deploy.output.exitcodes import format_error, reported


def test_an_error_becomes_what_is_wrong_and_what_to_do_next() -> None:
    text = format_error(LockHeld("ops@host pid 7", "2026-11-22T00:00:00Z", "/x/deploy.steps.lock"))
    assert text.splitlines()[0] == "error: deploy lock held by ops@host pid 7 since 2026-11-22T00:00:00Z"
    assert text.splitlines()[1].startswith("  next: wait for that deploy")


def test_reported_turns_named_errors_into_their_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    @reported
    def body() -> None:
        raise DirtyTree(["trading/a.py"])

    with pytest.raises(Exit) as caught:
        body()
    assert caught.value.code == DirtyTree.exit_code != 0
    assert "uncommitted changes in trading/a.py" in capsys.readouterr().err


def test_reported_lets_bugs_keep_their_traceback() -> None:
    @reported
    def body() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        body()
