"""`invoke volume-rebuild`: a legacy volume (code and state together) becomes a proven state-only volume.

    lock → [1] inventory the legacy volume (sha256, size, mode, owner), classify it (`plan`), decide
    where an earlier run stands (`journal`) and name every volume it makes — every refusal happens
    here, before any change → [2] back it up whole into `<legacy>-backup-<UTC time>` and prove the
    copy identical, file by file → [3] make `<project>_state` with Compose's labels, carry the state
    and secret files into it, owned by the runtime user, and prove it holds exactly them → [4] drift
    of the legacy code against trading/ at the commit → [5] the ledger entry and its report, then
    remove the journal volume; the report is written again with step 5 in it

Steps 2 to 5 are one list (`later_steps`): the run walks it and `--plan` (`deploy.rebuild.plan`)
prints it. A failure in steps 2 to 4 is recorded (`failed`, with its report) and raised.
The legacy volume is only ever mounted read-only, and no container but the run's own helpers may
mount it or a state volume the run replaces, running or stopped (`deploy.steps.writers`). The
journal volume exists from before the first change until the last step; while it does, or while
the state volume says it was rebuilt and the ledger does not record the rebuild finished, deploy,
rollback and restore refuse the state volume (`deploy.steps.rebuilding.refuse_unfinished`): a run
killed anywhere is finished by running it again, and a half-made state volume is never adopted. A
run never removes a state volume a release ran on (`deploy.rebuild.resume`). With `--force`, state
the volume already holds is backed up and proven first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine import baseimage, compose, helpers
from deploy.engine.client import compose_argv
from deploy.engine.git import Repository
from deploy.engine.runner import Runner
from deploy.errors import CopyNotProven, first_of
from deploy.ids import short
from deploy.output.progress import Progress, Say
from deploy.procedures import report
from deploy.procedures.procedure import (
    FAILURES,
    Step,
    cause_of,
    locked,
    record_with_report,
    walk_steps,
)
from deploy.procedures.trail import Trail
from deploy.rebuild import drift, engineops, evidence, inventory, labels, layout, resume, triage
from deploy.rebuild.engineops import Helper
from deploy.rebuild.inventory import Inventory
from deploy.records import ledger
from deploy.records.view import EngineRecords, Records
from deploy.steps import backups, rebuilding, snapshot, writers

EVENT = "volume-rebuild"
INVENTORY, RECORD = "inventory", "record"
TOTAL = 5  # inventory and the four later steps


@dataclass(frozen=True)
class Rebuilt:
    legacy: str
    state_volume: str
    backup: str  # the proven copy of the whole legacy volume
    replaced: str | None  # the proven copy of the state the volume held before (--force)
    drift: tuple[drift.Row, ...]
    plan: triage.Plan
    nothing_to_do: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # each step's duration, by name


@dataclass(frozen=True)
class Run:
    settings: Settings
    engine: docker.DockerClient
    repo: Repository
    legacy: str
    commit: str
    layout: layout.Layout
    helper: Helper
    say: Say
    records: Records  # the ledger as this run reads and writes it

    @classmethod
    def prepare(
        cls, settings: Settings, engine: docker.DockerClient, repo: Repository, legacy: str, rev: str, say: Say
    ) -> Run:
        commit = repo.commit(rev).sha
        rules = layout.parse(repo.file_at(commit, layout.PATH), f"{layout.PATH} at {short(commit)}")
        tool = Helper(engine, baseimage.resolve(settings, engine), settings.project)
        return cls(settings, engine, repo, legacy, commit, rules, tool, say, EngineRecords(settings, engine))

    def drift(self, chosen: triage.Plan) -> list[drift.Row]:
        return drift.compare(chosen.code, self.repo.code_files(self.commit), self.layout)


def rebuild(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    legacy: str,
    keep: Sequence[str] = (),
    force: bool = False,
    rev: str = "HEAD",
    say: Say = print,
) -> Rebuilt:
    """Rebuild (or finish rebuilding) the state volume from `legacy`; see the module docstring.

    Raises LockHeld, LegacyMissing, VolumeInUse, NotLegacy, KeepNotFound, TargetClash,
    TargetHoldsState, RebuildUnfinished (another legacy's), CopyNotProven.
    """
    with locked(settings, engine, f"{EVENT} {legacy}", say):
        run = Run.prepare(settings, engine, repo, legacy, rev, say)
        helpers.sweep(settings, engine, everyone=True)
        return _rebuild(run, Progress(EVENT, say, total=TOTAL), Trail(), keep, force)


def _rebuild(run: Run, progress: Progress, trail: Trail, keep: Sequence[str], force: bool) -> Rebuilt:
    state, started = run.settings.state_volume, ledger.now()
    trail.before = snapshot.capture(run.settings, run.engine, run.records)
    inspected: list[Decided] = []
    walk_steps(progress, trail, [inventory_step(run, keep, force, inspected.append)])
    decided = inspected[0]
    chosen = decided.chosen
    run.say(triage.render(chosen, run.legacy, state))
    if decided.mode == resume.DONE:
        run.say(f"{EVENT}: {state} was already rebuilt from {run.legacy}; nothing to do")
        return Rebuilt(run.legacy, state, decided.backup, None, (), chosen, True, seconds(trail))
    made = Made(started)
    for step in later_steps(run, decided, made, trail):
        walk_step(progress, trail, step, lambda cause: _record(run, trail, decided, made, ledger.FAILED, cause))
    complete_report(trail, run.records)  # with step 5, which ran after the entry
    return Rebuilt(run.legacy, state, decided.backup, decided.replaced, made.rows, chosen, seconds=seconds(trail))


def complete_report(trail: Trail, records: Records) -> None:
    """Write the run's report again with every step: steps that ran after its ledger entry too."""
    made = trail.complete_report()
    if made is not None:
        records.write(report.files(made))


def seconds(trail: Trail) -> dict[str, float]:
    """Each step's duration, by name."""
    return {step.name: step.seconds for step in trail.steps}


def inventory_step(run: Run, keep: Sequence[str], force: bool, decided: Callable[[Decided], None]) -> Step:
    """Step 1: every refusal happens here, before any change; what it found and decided goes to `decided`."""

    def action() -> str:
        found, chosen, where = inspect(run, keep)
        made = decide(run, found, chosen, where, force)
        refuse_busy(run, where, made.mode)
        decided(made)
        return _counts(found, chosen)

    return Step(INVENTORY, action, doing=inventory_doing(run), proves=True)


@dataclass(frozen=True)
class Decided:
    """What step 1 found and decided: what the later steps act on, every volume they make named."""

    found: Inventory
    chosen: triage.Plan
    mode: str  # resume.FRESH, RESUME, DONE or AGAIN
    backup: str  # the legacy volume's backup: the name an interrupted run chose, else a new one
    replaced: str | None  # AGAIN: the backup of the state the state volume holds


@dataclass
class Made:
    """What the later steps leave for the record: when the run started, the drift they found."""

    started: str
    rows: tuple[drift.Row, ...] = ()


def inventory_doing(run: Run) -> str:
    return f"reading every file of {run.legacy} (sha256, size, mode, owner) and classifying it"


def decide(run: Run, found: Inventory, chosen: triage.Plan, where: resume.Found, force: bool) -> Decided:
    """The mode and the names of the volumes a run makes; raises RebuildUnfinished, TargetHoldsState."""
    state, now = run.settings.state_volume, datetime.now(UTC)
    mode = resume.decide(where, run.legacy, state, force)
    if mode == resume.DONE:
        return Decided(found, chosen, mode, (where.state or {}).get(rebuilding.LEGACY_BACKUP, ""), None)
    backup = resume.resumed_backup(where) or backups.backup_name(run.legacy, now)
    replaced = backups.backup_name(state, now) if resume.replaces(where, mode) else None
    return Decided(found, chosen, mode, backup, replaced)


def later_steps(run: Run, d: Decided, made: Made, trail: Trail) -> list[Step]:
    """Steps 2 to 5, as the run walks them and a plan prints them."""
    state, rules = run.settings.state_volume, run.layout.state_volume
    first = f"copying the state {state} holds into {d.replaced}, proven; then " if d.replaced else ""
    carried = f"making {state} and carrying {len(d.chosen.carried)} files into it, owned by uid {rules.uid}"
    copied = f"{first}copying {run.legacy} whole into {d.backup}"
    compared = f"comparing the legacy code with trading/ at {short(run.commit)}"
    recorded = "writing the ledger and the report, closing the journal"
    return [
        Step("backup", lambda: _backups(run, d), doing=copied, proves=True),
        Step("state", lambda: _make_state(run, d), doing=carried, proves=True),
        Step("drift", lambda: _drift(run, d, made), doing=compared, proves=True),
        Step(RECORD, lambda: _close(run, d, made, trail), doing=recorded, proves=True),
    ]


def walk_step(progress: Progress, trail: Trail, step: Step, failed: Callable[[str], None]) -> None:
    """One step, named and timed; a failure before the record step is recorded, then raised."""
    try:
        walk_steps(progress, trail, [step])
    except FAILURES as exc:
        if step.name != RECORD:
            failed(cause_of(exc))
        raise


def _drift(run: Run, d: Decided, made: Made) -> str:
    made.rows = tuple(run.drift(d.chosen))
    run.say(drift.render(list(made.rows), run.commit))
    return drift.summary(made.rows)


def _close(run: Run, d: Decided, made: Made, trail: Trail) -> str:
    state = run.settings.state_volume
    _record(run, trail, d, made, ledger.SUCCEEDED)
    engineops.remove(run.engine, backups.rebuild_marker(state))
    return f"{state} is ready for `invoke deploy`; {run.legacy} is untouched until `invoke volume-retire`"


def _backups(run: Run, d: Decided) -> str:
    """Back up the state to be replaced (--force), open the journal, back up the legacy volume; both proven.

    The replaced state is copied before the journal exists: a resumed run may then remove it."""
    state = run.settings.state_volume
    if d.replaced:
        _proven_backup(run, state, d.replaced, run.helper.inventory(state))
    if engineops.labels_of(run.engine, backups.rebuild_marker(state)) is None:  # a fresh run, or removed by hand
        opened = labels.journal_labels(run.legacy, d.backup, datetime.now(UTC))
        engineops.create(run.engine, backups.rebuild_marker(state), opened)
    _proven_backup(run, run.legacy, d.backup, d.found)
    kept = f"; the state it replaces is kept in {d.replaced}" if d.replaced else ""
    return f"{d.backup} proven identical, {len(d.found)} entries{kept}"


def inspect(run: Run, keep: Sequence[str]) -> tuple[Inventory, triage.Plan, resume.Found]:
    engineops.require(run.engine, run.legacy)
    found = run.helper.inventory(run.legacy)
    chosen = triage.make(found, run.layout, keep)
    state = run.settings.state_volume
    state_labels = engineops.labels_of(run.engine, state)
    held = run.helper.inventory(state) if state_labels is not None else {}
    where = resume.Found(
        engineops.labels_of(run.engine, backups.rebuild_marker(state)),
        state_labels,
        max(len(held) - 1, 0),  # "." is the root itself
        rebuilding.finished(state_labels, run.records.entries()),
        tuple(sorted(held.keys() - chosen.expected(run.layout).keys())),
    )
    return found, chosen, where


def refuse_busy(run: Run, found: resume.Found, mode: str) -> None:
    """No container but this run's helpers may mount the legacy volume (it could write while the volume is copied,
    or trade later) or a state volume to be replaced (`deploy.steps.writers.refuse_mounted`)."""
    replaced = found.state is not None and mode != resume.DONE
    writers.refuse_mounted(run.settings, run.engine, [run.legacy, *([run.settings.state_volume] if replaced else [])])


def _counts(found: Inventory, chosen: triage.Plan) -> str:
    files = inventory.files(found)
    return (
        f"{len(files)} files, {inventory.total_size(files) / 1e6:.1f} MB: {len(chosen.carried)} to carry, "
        f"{len(chosen.code)} code and {len(chosen.unknown)} unknown left behind"
    )


def _proven_backup(run: Run, source: str, name: str, expected: Inventory) -> None:
    """Make `name` a proven copy of `source` (whose inventory is `expected`): kept when it already is one,
    else (re)made; CopyNotProven when the fresh copy differs."""
    if engineops.labels_of(run.engine, name) is not None:
        if not inventory.differences(expected, run.helper.inventory(name)):
            return
        engineops.remove(run.engine, name)  # an interrupted copy: made again
    engineops.create(run.engine, name, labels.backup_labels(source, datetime.now(UTC)))
    run.helper.clone(source, name)
    wrong = inventory.differences(expected, run.helper.inventory(name))
    if wrong:
        raise _not_proven(f"the backup {name} of {source}", wrong)


def _make_state(run: Run, d: Decided) -> str:
    """(Re)make the state volume from scratch and prove it holds exactly what the plan expects."""
    chosen, backup = d.chosen, d.backup
    settings, engine = run.settings, run.engine
    state = settings.state_volume
    engineops.remove(engine, state)  # empty, half-made by an interrupted run, or backed up (--force)
    version = Runner().run(compose.version(compose_argv(settings))).stdout.strip()
    rules = run.layout.state_volume
    engineops.create(
        engine, state, labels.state_labels(settings.project, rules.compose_key, version, run.legacy, backup)
    )
    run.helper.carry(run.legacy, state, chosen, run.layout)
    wrong = inventory.differences(chosen.expected(run.layout), run.helper.inventory(state))
    if wrong:
        raise _not_proven(f"the state volume {state}", wrong)
    return f"exactly the carried files, byte-identical (SQLite: the same tables), owned by uid {rules.uid}"


def _not_proven(what: str, differences: Sequence[str]) -> CopyNotProven:
    return CopyNotProven(
        f"{what} is not identical: {first_of(differences, 5, '; ')}",
        "nothing was adopted; check the engine's disk and run the command again",
    )


def _record(run: Run, trail: Trail, d: Decided, made: Made, outcome: str, cause: str = "") -> None:
    """The ledger entry with its report: the rebuild's figures, the state before and after, each step."""
    trail.rebuild = evidence.figures(run.legacy, run.settings.state_volume, run.commit, d, made.rows)
    entry = ledger.Entry(
        EVENT,
        run.commit,
        "",
        "",
        made.started,
        ledger.now(),
        ledger.operator(),
        outcome,
        cause,
        backup=d.backup,
        restored_from=run.legacy,
    )
    record_with_report(trail, run.settings, run.engine, run.records, entry)
