import json

from deploy.policy.check import Check
from deploy.verify import VerifyReport, output, render
from deploy.verify.codecompare import Difference, Kind, PointResult
from deploy.verify.run import what_runs

RELEASE = "1" * 40
GOOD = (PointResult("commit", "d" * 64), PointResult("image", "d" * 64))


def report(points: tuple[PointResult, ...] = GOOD, checks: tuple[Check, ...] = (), ahead: int = 0) -> VerifyReport:
    return VerifyReport(RELEASE, points, checks or (Check("bot", "healthy", True),), ahead)


def test_all_equal_is_ok_and_says_so() -> None:
    assert report().ok
    assert report().summary() == "all 2 points equal, all 1 checks pass"


def test_the_summary_names_the_differing_point_files_and_failed_checks() -> None:
    changed = PointResult("worker container", "e" * 64, (Difference("bot.py", Kind.CHANGED),))
    check = Check("worker", "runs the live image", False, "sha256:abc")
    bad = report((*GOOD, changed), (check,))
    assert not bad.ok
    assert bad.summary() == (
        "worker container differs (changed bot.py); worker fails 'runs the live image' (sha256:abc)"
    )


def test_the_summary_shortens_long_difference_lists() -> None:
    many = tuple(Difference(f"f{i}.py", Kind.EXTRA) for i in range(7))
    line = report((*GOOD, PointResult("bot container", "e" * 64, many))).summary()
    assert line == "bot container differs (extra f0.py, extra f1.py, extra f2.py, extra f3.py, extra f4.py and 2 more)"


def test_json_has_the_promised_shape() -> None:
    data = json.loads(output(report(ahead=2), as_json=True))
    assert set(data) >= {"ok", "release", "points", "checks"}
    assert data["release"] == RELEASE and data["ok"] is True and data["head_ahead"] == 2
    assert data["points"][1] == {"name": "image", "ok": True, "digest": "d" * 64, "differences": [], "problems": []}
    assert data["checks"] == [{"target": "bot", "name": "healthy", "ok": True, "detail": ""}]


def test_human_output_lists_differing_files_under_their_point() -> None:
    changed = PointResult("bot container", "e" * 64, (Difference("evil.py", Kind.EXTRA),), ("mounted",))
    text = render(report((*GOOD, changed), ahead=3))
    lines = text.splitlines()
    assert lines[0] == "release 111111111111 (HEAD is 3 commit(s) ahead)"
    at = lines.index("  FAIL bot container      eeeeeeeeeeee")
    assert lines[at + 1 : at + 3] == ["         extra evil.py", "         mounted"]
    assert lines[-1].startswith("verify: FAILED: bot container differs (extra evil.py, mounted)")


class Running:
    """A container as `what_runs` reads it."""

    def __init__(self, id_: str, started: str, restarts: int = 0) -> None:
        self.id, self.attrs = id_, {"State": {"StartedAt": started}, "RestartCount": restarts}


class Live:
    id = "sha256:live"


def test_a_report_is_of_what_runs_only_while_the_same_containers_run_unrestarted() -> None:
    def seen(*containers: Running) -> tuple[str, ...]:
        return what_runs(Live(), {"bot": list(containers)})  # type: ignore[arg-type, dict-item]

    made = seen(Running("a", "t1"), Running("b", "t1"))
    assert seen(Running("b", "t1"), Running("a", "t1")) == made
    assert seen(Running("a", "t2"), Running("b", "t1")) != made  # restarted by hand or by the engine
    assert seen(Running("a", "t1", restarts=1), Running("b", "t1")) != made
    assert seen(Running("c", "t1"), Running("b", "t1")) != made  # recreated


def test_quiet_output_is_one_line_when_all_holds_and_every_line_when_verbose() -> None:
    assert (
        render(report(ahead=2))
        == "verify: OK: 111111111111 (HEAD is 2 commit(s) ahead): all 2 points equal, all 1 checks pass"
    )
    lines = render(report(), verbose=True).splitlines()
    assert lines[:3] == [
        "release 111111111111 (HEAD is the release)",
        "points:",
        "  ok   commit             dddddddddddd",
    ]
    assert "  ok   bot: healthy" in lines and lines[-1] == "verify: OK: all 2 points equal, all 1 checks pass"


def test_quiet_output_lists_only_what_failed_and_ends_with_the_outcome() -> None:
    checks = (Check("bot", "healthy", True), Check("bot", "read-only root", False, "rw"))
    lines = render(report(checks=checks)).splitlines()
    assert lines == [
        "release 111111111111 (HEAD is the release)",
        "  FAIL bot: read-only root  (rw)",
        "verify: FAILED: bot fails 'read-only root' (rw)",
    ]
