import dataclasses
import html
import html.parser
import json

from deploy.engine import observe
from deploy.procedures import report as reports
from deploy.procedures.report import Report, StepTime
from deploy.steps import evidence

COMMIT, PREVIOUS = "c" * 40, "p" * 40
DIGEST = "d" * 64


def snapshot(commit: str, generation: int, lock: dict | None = None) -> dict:
    image = "sha256:" + "1" * 64
    container = {"service": "bot", "name": "x-bot-1", "state": "running", "health": "healthy", "image_id": image}
    return {
        "taken_at": "t",
        "status": {"release": {"commit": commit}, "containers": [container]},
        "state": {"sha256": f"{generation:064d}", "generation": generation, "open_positions": 2, "commands": 0},
        "lock": lock,
        "newest_backup": "x_state-backup-1",
    }


def sample(cause: str = "", outcome: str = "succeeded") -> Report:
    entry = {
        "event": "deploy",
        "commit": COMMIT,
        "image_id": "sha256:" + "2" * 64,
        "previous": PREVIOUS,
        "by": "op@host",
        "started_at": "2026-11-22T04:00:00+00:00",
        "finished_at": "2026-11-22T04:00:05+00:00",
        "outcome": outcome,
        "cause": cause,
        "dirty": False,
        "backup": "x_state-backup-1",
        "restored_from": "",
        "code_digest": DIGEST,
    }
    steps = (
        StepTime("back up x_state", 0.0, 0.4),
        StepTime("recreate bot and worker", 0.5, 1.0, bot_down=True),
        StepTime("wait until bot and worker are healthy", 1.5, 1.5, bot_down=True),
        StepTime("verify", 3.0, 0.8, ok=outcome == "succeeded"),
    )
    points = [
        {"name": "commit", "ok": True, "digest": DIGEST, "differences": [], "problems": []},
        {
            "name": "bot container",
            "ok": False,
            "digest": "e" * 64,
            "differences": [{"path": "strategy.py", "kind": "changed"}],
            "problems": [],
        },
    ]
    checks = [{"target": "bot", "name": "healthy", "ok": True, "detail": ""}]
    verify = {"ok": False, "release": COMMIT, "head_ahead": 0, "points": points, "checks": checks}
    holder = {"by": "op@host", "pid": 7, "what": "deploy HEAD", "host": "h", "since": "t"}
    stored = {
        "id": "20261122T040000.000000Z-abcd",
        "entry": entry,
        "before": snapshot(PREVIOUS, 5, holder),
        "after": snapshot(COMMIT, 6),
        "steps": [dataclasses.asdict(step) for step in steps],
        "downtime": reports.downtime(steps),
        "verify": verify,
        "rebuild": None,
    }
    return Report.from_json(json.dumps(stored))  # as `invoke report` reads it back from the engine


def test_a_report_survives_its_json() -> None:
    assert Report.from_json(sample().to_json()) == sample()
    assert sample().after is not None and sample().after.status.release.commit == COMMIT  # typed, not dug out


def test_downtime_runs_from_stopping_the_bot_to_its_health() -> None:
    assert sample().downtime == (0.5, 3.0)
    steps = (StepTime("a", 0, 1), StepTime("stop", 1, 1, bot_down=True), StepTime("start", 2, 3, bot_down=True))
    assert reports.downtime(steps) == (1, 5)
    assert reports.downtime(steps[:1]) is None


def test_the_markdown_names_commits_steps_state_and_every_digest() -> None:
    text = reports.markdown(sample())
    assert text.startswith("# deploy of cccccccccccc: succeeded")
    assert f"| {PREVIOUS[:12]} → {COMMIT[:12]} (image 222222222222) |" in text.replace("from → to | ", "")
    assert "| generation | 5 | 6 (changed) |" in text
    assert "| open positions | 2 | 2 |" in text
    assert "| 3 | wait until bot and worker are healthy | 1.50 s | 1.50 s | ok |" in text
    assert "The bot was down from 0.50 s to 3.00 s (2.50 s)." in text
    assert f"| commit | `{DIGEST}` | equal |" in text
    assert "| bot container | `" + "e" * 64 + "` | DIFFERENT; changed strategy.py |" in text
    assert "| bot | healthy | ok |  |" in text


def test_a_handover_says_the_tick_gap_as_the_bot_s_downtime_and_keeps_it_when_read_back() -> None:
    handed = Report.from_json(dataclasses.replace(sample(), bot_down=0.1234).to_json())
    assert handed.bot_down == 0.1234
    said = (
        "The bot was down 0.123 s: from the old bot's last tick to the new one's first (their stage lines), "
        "within the steps from 0.50 s to 3.00 s."
    )
    assert said in reports.markdown(handed) and said in html.unescape(reports.html(handed))
    assert "handover: bot down 0.123 s from tick to tick" in reports.html(handed)  # the timeline's window too
    assert "The bot was down from 0.50 s to 3.00 s" not in reports.markdown(handed)  # the steps' window overstates


def test_the_state_table_leaves_out_the_lock_the_attempt_held_while_it_looked() -> None:
    rows = sample().state_rows()
    assert [label for label, _, _ in rows] == [
        "live release",
        "state file sha256",
        "generation",
        "open positions",
        "command bus (commands)",
        "newest backup",
    ]
    for text in (reports.markdown(sample()), reports.html(sample())):
        assert "deploy lock" not in text and "op@host (pid 7" not in text


def test_a_cause_cannot_break_a_markdown_table_row() -> None:
    text = reports.markdown(sample(cause="a | b\nc", outcome="rolled_back"))
    assert "| cause | a \\| b c |" in text


class Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_page_is_self_contained_escaped_and_draws_the_timeline() -> None:
    page = reports.html(sample(cause="<script>alert(1)</script>", outcome="rolled_back"))
    parsed = Collector()
    parsed.feed(page)
    assert "script" not in parsed.tags and "&lt;script&gt;" in page
    assert parsed.urls == [] and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert parsed.tags.count("rect") == 4 + 1  # a bar per step and the downtime window
    assert "bot down 2.50 s" in "".join(parsed.text)
    assert DIGEST in page and "DIFFERENT" in page and COMMIT in page


def test_timeline_bars_scale_to_the_width_and_ticks_cover_the_run() -> None:
    drawn = reports.timeline(sample(), width=380)
    assert [round(bar.x) for bar in drawn["bars"]] == [0, 50, 150, 300]
    assert round(drawn["bars"][-1].x + drawn["bars"][-1].width) == 380
    assert drawn["window"] == {"x": 50.0, "width": 250.0, "seconds": 2.5}
    assert [tick["label"] for tick in drawn["ticks"]] == [f"{n / 2:g} s" for n in range(8)]
    assert drawn["height"] == 4 * reports.ROW_HEIGHT


def test_choose_takes_the_newest_report_or_the_newest_of_a_commit() -> None:
    older, newer = sample(), sample()
    other = dataclasses.replace(sample(), id="z", entry=dataclasses.replace(sample().entry, commit="f" * 40))
    assert reports.choose([older, newer, other], None) is other
    assert reports.choose([older, newer, other], COMMIT[:7]) is newer
    assert reports.choose([older], "0" * 7) is None


def test_the_digests_say_whose_they_are_when_the_release_did_not_stay_live() -> None:
    made = sample()
    assert f"Of {COMMIT[:12]}, the release this deploy made live." in reports.markdown(made)
    rolled_back = Report.from_json(
        made.to_json()
        .replace(f'"release": "{COMMIT}"', f'"release": "{PREVIOUS}"')
        .replace('"outcome": "succeeded"', '"outcome": "rolled_back"')
    )
    said = f"Of {PREVIOUS[:12]}, the release that ran when the deploy ended (the earlier release, running again): "
    said += f"not the digests of {COMMIT[:12]}, which did not stay live."
    assert said in reports.markdown(rolled_back)
    assert said.replace(PREVIOUS[:12], f"<code>{PREVIOUS[:12]}</code>").replace(
        COMMIT[:12], f"<code>{COMMIT[:12]}</code>"
    ) in reports.html(rolled_back)


CRASH = observe.Evidence(
    "f" * 64, "x-bot-1", "bot", "exited", 1, 2, ("Traceback (most recent call last):", "ValueError: <boom>"), ("hi",)
)


def with_evidence() -> Report:
    entry = dataclasses.replace(sample().entry, outcome="rolled_back", evidence=[CRASH.to_json()])
    return Report.from_json(dataclasses.replace(sample(), entry=entry).to_json())


def test_the_report_shows_what_a_failed_container_said_and_how_it_ended() -> None:
    assert with_evidence().evidence == (CRASH,) and sample().evidence == ()
    text = reports.markdown(with_evidence())
    assert "## What the failed containers said" in text and "## What the failed" not in reports.markdown(sample())
    assert "bot `x-bot-1` (ffffffffffff): exited, exit code 1, restarted 2 times; its last lines:" in text
    assert "```\nTraceback (most recent call last):\nValueError: <boom>\n--- stdout ---\nhi\n```" in text
    page = reports.html(with_evidence())
    assert "ValueError: &lt;boom&gt;" in page and "exit code 1" in page


def test_the_operator_reads_each_failed_containers_last_lines() -> None:
    said = evidence.text([CRASH, observe.Evidence("a" * 64, "x-worker-1", "worker", "running", None, 0, ())])
    assert said.splitlines() == [
        "bot x-bot-1 (ffffffffffff): exited, exit code 1, restarted 2 times; its last 2 lines of stderr:",
        "  | Traceback (most recent call last):",
        "  | ValueError: <boom>",
        "  and of stdout:",
        "  | hi",
        "worker x-worker-1 (aaaaaaaaaaaa): running; its last 0 lines:",
        "  (none)",
    ]
    assert evidence.last_words([CRASH]) == "bot exited with code 1: ValueError: <boom>"


def test_a_container_restarted_and_running_again_is_said_to_have_exited_without_a_code() -> None:
    again = observe.Evidence("e" * 64, "x-bot-1", "bot", "running", None, 1, ("RuntimeError: boom",))
    assert evidence.last_words([again]) == "bot exited and was restarted 1 times: RuntimeError: boom"
