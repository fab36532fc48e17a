"""An attempt's report: the evidence one deploy, rollback, restore or volume rebuild leaves, and how it reads.

A `Report` is typed data: the ledger entry (who, when, from which commit to which, outcome, cause,
backup), the live state before and after (`deploy.steps.snapshot`), each step with its start and
duration, the bot's downtime window and the verify report (the digest at every point and every
check); a volume rebuild adds its figures (`deploy.rebuild.evidence`). It is stored as JSON on the
engine beside its ledger entry (`<project>_meta:/reports/<id>.json`, written in the same archive) and
parsed back into the same types; Markdown and one self-contained HTML page (inline SVG, no external
fetch) are rendered from templates (`deploy.output.render`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import docker

from deploy.config import Settings
from deploy.engine.git import Repository
from deploy.engine.observe import Evidence
from deploy.errors import ReportMissing, UnknownRevision
from deploy.ids import short
from deploy.output.render import template
from deploy.records import meta
from deploy.records.ledger import Entry
from deploy.steps.snapshot import Snapshot
from deploy.verify import VerifyReport

FOLDER = "reports"
TIMELINE_WIDTH = 700  # the page is 1100 px: 320 for the step names, 80 for the last bar's duration
ROW_HEIGHT = 24
STATE_FACTS = (
    ("state file sha256", "sha256"),
    ("generation", "generation"),
    ("open positions", "open_positions"),
    ("command bus (commands)", "commands"),
)


@dataclass(frozen=True)
class StepTime:
    name: str
    started: float  # seconds after the attempt started
    seconds: float
    ok: bool = True
    bot_down: bool = False  # the bot does not run during this step (stopped, recreated, not yet healthy)


@dataclass(frozen=True)
class Report:
    id: str
    entry: Entry
    before: Snapshot | None
    after: Snapshot | None
    steps: tuple[StepTime, ...]
    downtime: tuple[float, float] | None  # seconds after the start: the bot stopped … healthy again
    verify: VerifyReport | None  # of the release that runs afterwards
    rebuild: dict[str, Any] | None = None  # a volume rebuild's figures (`deploy.rebuild.evidence.figures`)
    bot_down: float | None = None  # a handover's: seconds from the old bot's last tick to the new one's first

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "entry": asdict(self.entry),
                "before": self.before.to_json() if self.before else None,
                "after": self.after.to_json() if self.after else None,
                "steps": [asdict(step) for step in self.steps],
                "downtime": self.downtime,
                "verify": self.verify.to_json() if self.verify else None,
                "rebuild": self.rebuild,
                "bot_down": self.bot_down,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Report:
        data = json.loads(text)
        snapshots = [Snapshot.from_json(data[key]) if data.get(key) else None for key in ("before", "after")]
        downtime = data.get("downtime")
        return cls(
            str(data["id"]),
            Entry.from_dict(data["entry"]),
            *snapshots,
            tuple(StepTime(**step) for step in data.get("steps") or ()),
            (downtime[0], downtime[1]) if downtime else None,
            VerifyReport.from_json(data["verify"]) if data.get("verify") else None,
            data.get("rebuild"),
            data.get("bot_down"),  # None in a report from before the handover measured ticks
        )

    @property
    def downtime_said(self) -> str:
        """How long the bot did not trade: the tick gap of a handover, else the window of its steps."""
        if self.bot_down is not None:
            window = (
                f", within the steps from {self.downtime[0]:.2f} s to {self.downtime[1]:.2f} s" if self.downtime else ""
            )
            return (
                f"The bot was down {self.bot_down:.3f} s: from the old bot's last tick to the new one's first "
                f"(their stage lines){window}."
            )
        if self.downtime:
            start, end = self.downtime
            return f"The bot was down from {start:.2f} s to {end:.2f} s ({end - start:.2f} s)."
        return "The bot was not stopped."

    @property
    def path(self) -> str:
        return f"{FOLDER}/{self.id}.json"

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """What the failed containers wrote last and how they ended, as its ledger entry records it."""
        return tuple(Evidence.from_json(kept) for kept in self.entry.evidence or ())

    def state_rows(self) -> list[tuple[str, Any, Any]]:
        """The before/after table: the live release, the state file's facts and the newest backup.

        Not the deploy lock, although a snapshot holds it (a plan shows it): both are captured while the
        attempt holds the lock itself, so the row could only ever name the attempt.
        """
        before, after = self.before, self.after
        rows: list[tuple[str, Any, Any]] = [("live release", _release(before), _release(after))]
        rows += [(label, _fact(before, key), _fact(after, key)) for label, key in STATE_FACTS]
        rows.append(("newest backup", _backup(before), _backup(after)))
        return rows


def _release(snapshot: Snapshot | None) -> str:
    release = snapshot.status.release if snapshot else None
    return short(release.commit) if release else "nothing"


def _fact(snapshot: Snapshot | None, key: str) -> Any:
    value = getattr(snapshot.state, key) if snapshot and snapshot.state else None
    return "-" if value is None else value


def _backup(snapshot: Snapshot | None) -> str:
    return (snapshot.newest_backup if snapshot else "") or "-"


def downtime(steps: Sequence[StepTime]) -> tuple[float, float] | None:
    """From the start of the first step with the bot down to the end of the last one."""
    down = [step for step in steps if step.bot_down]
    return (down[0].started, down[-1].started + down[-1].seconds) if down else None


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    y: float
    width: float
    seconds: float
    ok: bool


def timeline(report: Report, width: float = TIMELINE_WIDTH) -> dict[str, Any]:
    """Geometry of the SVG timeline: a bar per step on its own row, the downtime window, second ticks."""
    total = max((s.started + s.seconds for s in report.steps), default=0.0) or 1.0
    scale = width / total
    bars = [
        Bar(s.name, s.started * scale, i * ROW_HEIGHT, max(s.seconds * scale, 2.0), s.seconds, s.ok)
        for i, s in enumerate(report.steps)
    ]
    window = None
    if report.downtime:
        start, end = report.downtime
        window = {"x": start * scale, "width": max((end - start) * scale, 2.0), "seconds": end - start}
    step = _tick_step(total)
    ticks = [{"x": n * step * scale, "label": f"{n * step:g} s"} for n in range(int(total / step) + 1)]
    return {"bars": bars, "window": window, "ticks": ticks, "height": len(bars) * ROW_HEIGHT, "width": width}


def _tick_step(total: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 30, 60, 300):
        if total / step <= 12:
            return step
    return 600


def markdown(report: Report) -> str:
    return template("report.md.j2", r=report)


def html(report: Report) -> str:
    return template("report.html.j2", r=report, timeline=timeline(report))


def files(report: Report) -> dict[str, bytes]:
    """What the ledger entry's write carries beside the entry (`Records.append`)."""
    return {report.path: report.to_json().encode()}


def read_all(settings: Settings, engine: docker.DockerClient) -> list[Report]:
    """Every report on the engine, oldest first; a file that is no report is skipped."""
    found = meta.read_folder(settings, engine, FOLDER)
    return list(_parse(found[name] for name in sorted(found)))


def _parse(texts: Iterable[bytes]) -> Iterable[Report]:
    for text in texts:
        try:
            yield Report.from_json(text)
        except (ValueError, TypeError, KeyError):
            continue


def newest(settings: Settings, engine: docker.DockerClient, repo: Repository, release: str | None) -> Report:
    """The newest report, or the newest of `release` (resolved in this clone when it can be); `ReportMissing`."""
    commit = release
    if release is not None:
        with contextlib.suppress(UnknownRevision):
            commit = repo.commit(release).sha
    found = choose(read_all(settings, engine), commit)
    if found is None:
        raise ReportMissing(
            f"no release report of {release}" if release else "no release report on the engine yet",
            "`invoke releases` lists the attempts; each deploy, rollback and restore writes one",
        )
    return found


def of_attempt(settings: Settings, engine: docker.DockerClient, key: str) -> Report:
    """The report stored under `key` (what `release --json` names); `ReportMissing`."""
    for found in read_all(settings, engine):
        if found.id == key:
            return found
    raise ReportMissing(f"no report {key} on the engine", "`invoke releases` lists the attempts and their reports")


def choose(reports: Sequence[Report], commit: str | None) -> Report | None:
    """The newest report, or the newest of `commit` (a full sha or a prefix of one)."""
    for report in reversed(reports):
        if commit is None or report.entry.commit.startswith(commit):
            return report
    return None
