"""What deploy, rollback and restore share: the deployment they act on, steps walked in order, the attempt's record.

A procedure is a list of named `Step`s in five parts:

    prepare  changes nothing a failure must undo      (a failure: record `refused`, re-raise)
    standby  starts the new release beside the running one, which it does not touch (a failure: the
             procedure's discard, which removes what it started and raises: `refused`)
    beside   walked in a thread while the standby part runs (the backup: the standby does not touch what
             it reads); the switch begins once both have ended (a failure: the discard, which raises the
             step's own error)
    switch   touches the running release               (a failure: the procedure's own recovery, which raises)
    finish   tidies after the switch; then the success is recorded, once, its report holding every step
             (a finish step that fails is raised after the record; a record that cannot be written:
             `NotRecorded`, and the release stays: the next command's recovery records it)

`run` walks them, naming each step when it starts and saying its duration when
it ends; `plan_lines` walks the same list and only names the steps (and the command
a step runs), changing nothing.

An attempt is journalled: a `started` journal file before its first step, its ledger entry (same
`attempt` id) once the outcome is known; a journal file without a ledger entry is an attempt killed
on the way, which the next changing command finishes first (`deploy.procedures.recover`).

An `Attempt` knows every fact its ledger entry records before its first step
(even the backup it will make is named up front), so the entry is built in one
place, `Attempt.entry`, once the outcome is known. With no release image (a
restore while nothing is deployed) nothing is recorded: the ledger is of releases.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

import docker
import docker.errors

from deploy import meanwhile
from deploy.config import Settings, shown, with_runtime
from deploy.engine.client import compose_argv
from deploy.engine.observe import Evidence
from deploy.engine.runner import Runner
from deploy.engine.tree import Trees
from deploy.errors import NotRecorded, TradebotError, VerifyFailed
from deploy.ids import short
from deploy.output.progress import Progress, Say
from deploy.policy import rules
from deploy.procedures import report
from deploy.procedures.trail import Trail
from deploy.records import journal, ledger
from deploy.records.view import EngineRecords, Records
from deploy.steps import lock, occupants, snapshot
from deploy.steps.images import ReleaseImage
from deploy.steps.snapshot import Snapshot
from deploy.steps.tags import LiveTags

FAILURES = (TradebotError, docker.errors.DockerException)

if TYPE_CHECKING:
    from deploy.engine.git import Repository  # GitPython: imported by whoever makes one


@dataclass(frozen=True)
class Deployment:
    """What a procedure acts on: settings, the engine, the repository, how commands run and what it says."""

    settings: Settings
    engine: docker.DockerClient
    repo: Repository
    runner: Runner
    say: Say
    compose: tuple[str, ...]  # the Compose v2 argv prefix
    records: Records  # the ledger, journal and report writes, the ledger read once (`deploy.records.view`)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))  # what Compose interpolates
    # Where the command's evidence goes (each step's time, the states, the last verify): the caller keeps it,
    # so a failed attempt still says what ran (`deploy.procedures.trail`). The only thing a procedure adds to.
    trail: Trail = field(default_factory=Trail)
    trees: Trees = field(default_factory=Trees)  # the commits' trees Compose runs on (`deploy.engine.tree`)

    @classmethod
    def of(
        cls,
        settings: Settings,
        engine: docker.DockerClient,
        repo: Repository,
        say: Say,
        runner: Runner | None = None,
        trail: Trail | None = None,
    ) -> Deployment:
        """The deployment one command acts on: Compose found once, the ledger read once."""
        return cls(
            settings,
            engine,
            repo,
            runner or Runner(),
            say,
            compose_argv(settings),
            EngineRecords(settings, engine),
            trail=trail or Trail(),
        )


@dataclass(frozen=True)
class Step:
    name: str
    action: Callable[[], object]
    command: tuple[str, ...] = ()  # the argv it runs, shown by a plan
    bot_down: bool = False  # the bot does not run during it (the report marks the downtime window)
    doing: str = ""  # said when it starts
    proves: bool = False  # its action returns what it proved (a str), said instead of "done"


@dataclass(frozen=True)
class Procedure:
    prepare: tuple[Step, ...] = ()
    switch: tuple[Step, ...] = ()
    finish: tuple[Step, ...] = ()
    standby: tuple[Step, ...] = ()
    beside: tuple[Step, ...] = ()  # walked in a thread while the standby part runs; the switch waits for both

    @property
    def steps(self) -> tuple[Step, ...]:
        return (*self.prepare, *self.beside, *self.standby, *self.switch, *self.finish)


@dataclass(frozen=True)
class Attempt:
    """One deploy, rollback or restore: the facts its ledger entry records, all known before it starts."""

    event: str
    image: ReleaseImage | None  # the release it makes live (restore: the live one; None: nothing deployed)
    before: LiveTags
    backup: str = ""  # the state backup it makes before it touches a container
    restored_from: str = ""
    runtime: Mapping[str, str] = field(default_factory=dict)  # the runtime settings it runs with (`config.runtime`)
    started: str = field(default_factory=ledger.now)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def previous(self) -> str:
        return self.before.live.commit if self.before.live else ""

    def entry(
        self, image: ReleaseImage, outcome: str, cause: str = "", evidence: Sequence[Evidence] = ()
    ) -> ledger.Entry:
        finished = "" if outcome == journal.STARTED else ledger.now()
        return ledger.Entry(
            self.event,
            image.commit,
            image.image_id,
            image.code_digest,
            self.started,
            finished,
            ledger.operator(),
            outcome,
            cause,
            self.previous,
            image.dirty,
            self.backup,
            self.restored_from,
            dict(self.runtime),
            self.id,
            code_layer=image.code_layer,
            evidence=[kept.to_json() for kept in evidence] or None,
            layers=image.layers,
            policy=rules.digest(),
        )


@contextlib.contextmanager
def locked(settings: Settings, engine: docker.DockerClient, what: str, say: Say) -> Iterator[lock.Holder]:
    """Hold the deploy lock for the block (`deploy.steps.lock`), the ledger an older version kept locally carried
    over to the engine first, under the lock (`ledger.carry_over`); refused before anything changes when the
    deployment moved to another engine or a Swarm stack of its name writes its state (`deploy.steps.occupants`)."""
    with lock.held(settings, engine, what, say) as holder:
        occupants.refuse(settings, engine)
        ledger.carry_over(settings, engine)
        yield holder


def as_deployed(d: Deployment, image: ReleaseImage, entries: Iterable[ledger.Entry]) -> Deployment:
    """`d` with the runtime settings `image` was last deployed with (as recorded), when there are any."""
    recorded = ledger.runtime_of(entries, image.image_id)
    if recorded is None:
        return d
    d.say(f"{short(image.commit)} runs with the settings it was deployed with: {shown(recorded)}")
    return dataclasses.replace(d, environ=with_runtime(d.environ, recorded))


def record(
    d: Deployment, attempt: Attempt, outcome: str, cause: str = "", kept: Mapping[str, bytes] | None = None
) -> None:
    """Its start in the journal (`journal.start`); its end in the ledger, with its report (the state after)
    and `kept` (files to go with the entry: a release record) in one write.

    The end carries the evidence the trail kept of failed containers. A success is recorded by `record_success`.
    """
    if attempt.image is None:
        return
    if outcome == journal.STARTED:
        d.records.start(attempt.entry(attempt.image, outcome))
        return
    d.trail.outcome = outcome
    entry = attempt.entry(attempt.image, outcome, cause, d.trail.evidence)
    # A success ended with the verify that captured the state after beside it; anything else is captured now.
    after = d.trail.after if outcome == ledger.SUCCEEDED else None
    record_with_report(d.trail, d.settings, d.engine, d.records, entry, after, kept)
    d.trail.recorded = True


def record_success(d: Deployment, attempt: Attempt, kept: Mapping[str, bytes] | None = None) -> None:
    """Record a live, verified release; a failed write is tried once more, then `NotRecorded` (never undone).

    The second try reaches the meta volume through a fresh helper (`meta.write` drops a lock container
    that is gone), so a lock container removed by hand costs nothing; a full meta volume is reported.
    """
    try:
        record(d, attempt, ledger.SUCCEEDED, kept=kept)
        return
    except FAILURES as first:
        d.say(f"{attempt.event}: writing the ledger entry failed ({cause_of(first)}); trying once more …")
    try:
        record(d, attempt, ledger.SUCCEEDED, kept=kept)
    except FAILURES as again:
        raise not_recorded(attempt, cause_of(again)) from again


def not_recorded(attempt: Attempt, cause: str) -> NotRecorded:
    commit = short(attempt.image.commit) if attempt.image else "the release"
    return NotRecorded(
        f"{attempt.event} of {commit}: live and verified, but its ledger entry could not be written ({cause})",
        "nothing is undone: the next `invoke deploy`, `rollback` or `restore` records it as succeeded; "
        "free the meta volume's disk (`docker system df -v`) if it is full",
        attempt=attempt.id,
        commit=attempt.image.commit if attempt.image else "",
        cause=cause,
    )


def record_with_report(
    trail: Trail,
    settings: Settings,
    engine: docker.DockerClient,
    records: Records,
    entry: ledger.Entry,
    after: Snapshot | None = None,
    kept: Mapping[str, bytes] | None = None,
) -> None:
    """Add `entry` to the ledger with its report (the state after: `after`, else captured now) and `kept`, in one
    archive."""
    key = ledger.new_id()
    entry = dataclasses.replace(entry, report=key)
    made = trail.make_report(key, entry, after or snapshot.capture(settings, engine, records))
    records.append(entry, {**report.files(made), **(kept or {})}, key=key)


def walk(d: Deployment, event: str, steps: Iterable[Step]) -> None:
    """`walk_steps` of the deployment's attempt, saying its progress as `event`."""
    walk_steps(Progress(event, d.say), d.trail, steps)


def walk_steps(progress: Progress, trail: Trail, steps: Iterable[Step]) -> None:
    """Run the steps in order, each timed into the trail; its outcome and duration said when it ends."""
    for step in steps:
        progress.start(step.name, step.doing)
        timed: list[report.StepTime] = []
        try:
            with trail.step(step.name, step.bot_down) as timed:
                said = step.action()
        except BaseException:
            progress.failed(step.name, timed[0].seconds)
            raise
        progress.done(step.name, str(said) if step.proves else "", timed[0].seconds)


def run(
    d: Deployment,
    attempt: Attempt,
    procedure: Procedure,
    recover: Callable[[Exception], NoReturn],
    discard: Callable[[Exception, bool], NoReturn] | None = None,
    keep: Callable[[], Mapping[str, bytes]] | None = None,
) -> None:
    """Walk the procedure; see the module docstring for what a failure in each part sets off.

    The state before is captured while the prepare steps run: both only read what the switch changes.
    `discard(exc, beside)`: `beside` when the failure is a step's beside the standby. `keep` gives the files a
    success keeps with its ledger entry (the release record).
    """
    if d.settings.start_timeout_alias:
        d.say("TRADEBOT_START_TIMEOUT is deprecated: it is read as TRADEBOT_START_STALL (seconds without progress)")
    with ThreadPoolExecutor(max_workers=1) as pool:
        before = pool.submit(snapshot.capture, d.settings, d.engine, d.records)
        record(d, attempt, journal.STARTED)
        try:
            walk(d, attempt.event, procedure.prepare)
            d.trail.before = before.result()
        except FAILURES as exc:
            d.trail.before = d.trail.before or captured(before)
            record(d, attempt, ledger.REFUSED, cause_of(exc))
            raise
    meantime = meanwhile.start("beside", walk, d, attempt.event, procedure.beside)
    try:
        walk(d, attempt.event, procedure.standby)
    except FAILURES as exc:
        with contextlib.suppress(*FAILURES):  # the standby's failure is the cause; what runs beside it ends first
            meantime()
        if discard is None:
            recover(exc)
        discard(exc, False)
    try:
        meantime()
    except FAILURES as exc:
        if discard is None:
            recover(exc)
        discard(exc, True)
    try:
        walk(d, attempt.event, procedure.switch)
    except FAILURES as exc:
        recover(exc)
    try:
        walk(d, attempt.event, procedure.finish)
    finally:  # recorded once, its report holding every step; a finish step that failed is raised after
        record_success(d, attempt, keep() if keep else None)
    d.say(d.trail.summary(attempt.event))


def captured(snap: Future[Snapshot]) -> Snapshot | None:
    """A state captured beside a step; None when it could not be read (the report captures it again)."""
    try:
        return snap.result()
    except FAILURES:
        return None


def plan_lines(steps: Iterable[Step]) -> list[str]:
    """What walking the steps would do, one line each; runs nothing."""
    return [f"would {step.name}" + (f": {shlex.join(step.command)}" if step.command else "") for step in steps]


def verify_failed(release: str, summary: str) -> VerifyFailed:
    return VerifyFailed(
        f"live release {short(release)} does not verify: {summary}",
        "`invoke verify` names every difference; redeploy (`invoke deploy`) or roll back (`invoke rollback`)",
    )


def cause_of(exc: Exception) -> str:
    return exc.message if isinstance(exc, TradebotError) else f"Docker engine: {exc}"
