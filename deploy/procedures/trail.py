"""The evidence one attempt collects while it runs, and the report and the JSON document made from it.

A procedure times every step into its `Trail` (`step`), notes the live state
before it starts (`before`), the verify report of what runs at the end
(`verified`) and the id of the ledger entry it wrote; the caller keeps the trail,
so a failed attempt still says which steps ran, how long, and where its report is.

It also keeps what a failed release's containers said before they were removed (`evidence`), the
outcome its procedure decided (`outcome`) and whether its ledger entry was written (`recorded`): a
release can be live and verified while its record failed.

`document` is the one JSON document `invoke release --json` and `invoke rollback --json`
print (`print_document`: on success and on failure alike): what CI keeps.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deploy.engine.observe import Evidence
from deploy.errors import TradebotError
from deploy.procedures.report import Report, StepTime, downtime
from deploy.records.ledger import Entry

if TYPE_CHECKING:
    from deploy.steps.snapshot import Snapshot
    from deploy.verify import VerifyReport


@dataclass
class Trail:
    clock: Callable[[], float] = time.monotonic
    steps: list[StepTime] = field(default_factory=list)
    before: Snapshot | None = None
    verify: VerifyReport | None = None  # the last verify of the attempt: what runs when it ends
    after: Snapshot | None = None  # the state captured beside that verify (`procedure.verified`)
    report: Report | None = None  # the report written with the ledger entry
    rebuild: dict[str, Any] | None = None  # a volume rebuild's figures (`deploy.rebuild.evidence`)
    commit: str = ""  # the commit asked for, once resolved (a failure before the attempt has no entry)
    evidence: list[Evidence] = field(default_factory=list)  # failed containers, kept before they were removed
    outcome: str = ""  # as the procedure decided it, written or not
    recorded: bool = False  # its ledger entry was written
    bot_down: float | None = None  # seconds from the old bot's last tick to the new one's first (a handover)
    _start: float | None = None

    @contextlib.contextmanager
    def step(self, name: str, bot_down: bool = False) -> Iterator[list[StepTime]]:
        """Time the block as step `name`, kept among the steps in the order they started; a step that raises is
        kept as failed. The list it gives holds the step's time once the block has ended (steps walked beside
        each other end in any order)."""
        now = self.clock()
        start = self._start = now if self._start is None else self._start
        ok, timed = False, []
        try:
            yield timed
            ok = True
        finally:
            timed.append(StepTime(name, round(now - start, 3), round(self.clock() - now, 3), ok, bot_down))
            bisect.insort(self.steps, timed[0], key=lambda step: step.started)  # in the order they started

    def verified(self, report: VerifyReport, after: Snapshot | None) -> None:
        """The newest verify of the attempt and the state captured beside it: what runs when it ends."""
        self.verify, self.after = report, after

    def make_report(self, key: str, entry: Entry, after: Snapshot | None) -> Report:
        steps = tuple(self.steps)
        self.report = Report(
            key, entry, self.before, after, steps, downtime(steps), self.verify, self.rebuild, self.bot_down
        )
        return self.report

    def complete_report(self) -> Report | None:
        """The report made with the ledger entry, now with every step (those after the entry too)."""
        if self.report is not None:
            steps = tuple(self.steps)
            self.report = dataclasses.replace(self.report, steps=steps, downtime=downtime(steps))
        return self.report

    def summary(self, event: str) -> str:
        """The line that ends a run: how many steps, how long, how long the bot was down."""
        total = max((s.started + s.seconds for s in self.steps), default=0.0)
        window = downtime(self.steps)
        down = f", bot down {window[1] - window[0]:.1f} s" if window else ", the bot kept running"
        if self.bot_down is not None:
            down = f", bot down {self.bot_down:.3f} s (last tick to first tick)"
        return f"{event}: {len(self.steps)} steps in {total:.1f} s{down}"


def document(trail: Trail, meta_volume: str, error: TradebotError | None = None) -> dict[str, Any]:
    """{ok, event, commit, image_id, previous, backup, outcome, recorded, bot_down, evidence, verify, steps, report,
    exit_code} (+ error, next). `bot_down`: the tick gap of a handover, in seconds (null: not measured).

    `report` is where the attempt's report is kept: `<meta volume>:reports/<id>.json`.
    """
    entry = {"commit": trail.commit, **(dataclasses.asdict(trail.report.entry) if trail.report else {})}
    found: dict[str, Any] = {
        "ok": error is None,
        **{key: entry.get(key, "") for key in ("event", "commit", "image_id", "previous", "backup")},
        "outcome": trail.outcome or entry.get("outcome", ""),
        "recorded": trail.recorded,
        "bot_down": trail.bot_down,
        "evidence": [kept.to_json() for kept in trail.evidence],
        "verify": trail.verify.to_json() if trail.verify else None,
        "steps": [{"name": s.name, "seconds": s.seconds, "ok": s.ok} for s in trail.steps],
        "report": f"{meta_volume}:{trail.report.path}" if trail.report and trail.recorded else "",
        "exit_code": error.exit_code if error else 0,
    }
    if error is not None:
        found.update(error=error.message, next=error.hint)
    return found


def print_document(trail: Trail, meta_volume: str, work: Callable[[], object]) -> None:
    """Run `work`, then print its one JSON document on stdout, on success and on a `TradebotError` (re-raised)."""
    try:
        work()
    except TradebotError as error:
        print(json.dumps(document(trail, meta_volume, error), indent=2))
        raise
    print(json.dumps(document(trail, meta_volume), indent=2))
