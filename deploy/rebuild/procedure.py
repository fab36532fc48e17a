"""`invoke volume-rebuild`: a legacy volume (code and state together) becomes a proven state-only volume.

    lock → [1] inventory the legacy volume (sha256, size, mode, owner), classify it (`plan`), decide
    where an earlier run stands (`journal`) — every refusal happens here, before any change
    → [2] back it up whole into `<legacy>-backup-<UTC time>` and prove the copy identical, file by file
    → [3] make `<project>_state` with Compose's labels, carry the state and secret files into it,
    owned by the runtime user, and prove it holds exactly them → [4] drift of the legacy code
    against trading/ at the commit → [5] record in the ledger, then remove the journal volume

The legacy volume is only ever mounted read-only. The journal volume exists from before the
first change until the last step, and while it does, deploy, rollback and restore refuse the
state volume (`deploy.volumes.refuse_unfinished_rebuild`): a run killed anywhere is finished
by running it again, and a half-made state volume is never adopted. With `--force`, state the
volume already holds is backed up and proven before the journal is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import docker

from deploy import baseimage, compose, helpers, ledger, lock, volumes
from deploy.config import Settings
from deploy.engine import compose_argv
from deploy.errors import CopyNotProven, RebuildError
from deploy.git import Repository
from deploy.ids import short
from deploy.progress import Progress, Say
from deploy.rebuild import drift, engineops, inventory, journal, labels, layout, plan
from deploy.rebuild.engineops import Helper
from deploy.rebuild.inventory import Inventory
from deploy.runner import Runner

EVENT = "volume-rebuild"


@dataclass(frozen=True)
class Rebuilt:
    legacy: str
    state_volume: str
    backup: str  # the proven copy of the whole legacy volume
    replaced: str | None  # the proven copy of the state the volume held before (--force)
    drift: tuple[drift.Row, ...]
    plan: plan.Plan
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

    @classmethod
    def prepare(
        cls, settings: Settings, engine: docker.DockerClient, repo: Repository, legacy: str, rev: str, say: Say
    ) -> Run:
        commit = repo.commit(rev).sha
        rules = layout.parse(repo.file_at(commit, layout.PATH), f"{layout.PATH} at {short(commit)}")
        tool = Helper(engine, baseimage.resolve(settings, engine), settings.project)
        return cls(settings, engine, repo, legacy, commit, rules, tool, say)

    def drift(self, chosen: plan.Plan) -> list[drift.Row]:
        return drift.compare(chosen.code, self.repo.code_files(self.commit), self.layout)


def show_plan(
    settings: Settings, engine: docker.DockerClient, repo: Repository, legacy: str, keep: Sequence[str] = (),
    force: bool = False, rev: str = "HEAD", say: Say = print,
) -> plan.Plan:  # fmt: skip
    """`--plan`: print the inventory, its classification, the target volume, the drift and what a run
    would do; change nothing."""
    run = Run.prepare(settings, engine, repo, legacy, rev, say)
    found, chosen, where = _inventory(run, keep)
    say(plan.render_inventory(found, run.layout))
    say(plan.render(chosen, legacy, settings.state_volume))
    say(drift.render(run.drift(chosen), run.commit))
    say(f"{EVENT}: a run would {_would(where, legacy, settings.state_volume, force)}; nothing was changed (--plan)")
    return chosen


def _would(where: journal.Found, legacy: str, state: str, force: bool) -> str:
    try:
        mode = journal.decide(where, legacy, state, force)
    except RebuildError as refused:
        return f"refuse ({refused.message})"
    return {
        journal.FRESH: f"back up {legacy} and make {state}",
        journal.RESUME: "finish the interrupted rebuild",
        journal.DONE: f"do nothing ({state} was already rebuilt from {legacy})",
        journal.AGAIN: f"back up the state {state} holds, then rebuild it from {legacy}",
    }[mode]


def rebuild(
    settings: Settings, engine: docker.DockerClient, repo: Repository, legacy: str, keep: Sequence[str] = (),
    force: bool = False, rev: str = "HEAD", say: Say = print,
) -> Rebuilt:  # fmt: skip
    """Rebuild (or finish rebuilding) the state volume from `legacy`; see the module docstring.

    Raises LockHeld, LegacyMissing, VolumeInUse, NotLegacy, KeepNotFound, TargetClash,
    TargetHoldsState, RebuildUnfinished (another legacy's), CopyNotProven.
    """
    with lock.held(settings, engine, f"{EVENT} {legacy}", say):
        run = Run.prepare(settings, engine, repo, legacy, rev, say)
        helpers.sweep(settings, engine, everyone=True)
        return _rebuild(run, Progress(EVENT, say, total=5), keep, force)


def _rebuild(run: Run, steps: Progress, keep: Sequence[str], force: bool) -> Rebuilt:
    started, state = ledger.now(), run.settings.state_volume
    with steps.step("inventory", f"reading every file of {run.legacy}") as proved:
        found, chosen, where = _inventory(run, keep)
        mode = journal.decide(where, run.legacy, state, force)
        _refuse_busy(run, where, mode)
        proved(_counts(found, chosen))
    run.say(plan.render(chosen, run.legacy, state))
    if mode == journal.DONE:
        run.say(f"{EVENT}: {state} was already rebuilt from {run.legacy}; nothing to do")
        backup = (where.state or {}).get(labels.LEGACY_BACKUP, "")
        return Rebuilt(run.legacy, state, backup, None, (), chosen, True, steps.timings)
    with steps.step("backup", f"copying {run.legacy} whole into a backup volume") as proved:
        backup, replaced = _backups(run, found, where, mode)
        kept = f"; the state it replaces is kept in {replaced}" if replaced else ""
        proved(f"{backup} proven identical, {len(found)} entries{kept}")
    with steps.step("state", f"making {state} and carrying {len(chosen.carried)} files into it") as proved:
        _make_state(run, chosen, backup)
        proved(f"exactly the carried files, byte-identical, owned by uid {run.layout.state_volume.uid}")
    with steps.step("drift", f"comparing the legacy code with trading/ at {short(run.commit)}") as proved:
        rows = run.drift(chosen)
        proved(drift.summary(rows))
    run.say(drift.render(rows, run.commit))
    with steps.step("record", "writing the ledger, closing the journal") as proved:
        _record(run, started, backup)
        engineops.remove(run.engine, volumes.rebuild_marker(state))
        proved(f"{state} is ready for `invoke deploy`; {run.legacy} is untouched until `invoke volume-retire`")
    return Rebuilt(run.legacy, state, backup, replaced, tuple(rows), chosen, seconds=steps.timings)


def _backups(run: Run, found: Inventory, where: journal.Found, mode: str) -> tuple[str, str | None]:
    """Back up the state to be replaced (--force), open the journal, back up the legacy volume; both proven.

    The replaced state is copied before the journal exists: a resumed run may then remove it."""
    state = run.settings.state_volume
    replaced = _backup_volume(run, state) if mode == journal.AGAIN else None
    backup = journal.resumed_backup(where) or volumes.backup_name(run.legacy, datetime.now(UTC))
    if mode != journal.RESUME:
        opened = labels.journal_labels(run.legacy, backup, datetime.now(UTC))
        engineops.create(run.engine, volumes.rebuild_marker(state), opened)
    _proven_backup(run, run.legacy, backup, found)
    return backup, replaced


def _inventory(run: Run, keep: Sequence[str]) -> tuple[Inventory, plan.Plan, journal.Found]:
    engineops.require(run.engine, run.legacy)
    found = run.helper.inventory(run.legacy)
    chosen = plan.make(found, run.layout, keep)
    state = run.settings.state_volume
    state_labels = engineops.labels_of(run.engine, state)
    held = len(run.helper.inventory(state)) - 1 if state_labels is not None else 0  # "." is the root itself
    return (
        found,
        chosen,
        journal.Found(engineops.labels_of(run.engine, volumes.rebuild_marker(state)), state_labels, held),
    )


def _refuse_busy(run: Run, found: journal.Found, mode: str) -> None:
    """The legacy volume must be still while it is copied; a state volume to be replaced must be unused."""
    engineops.refuse_in_use(run.engine, run.legacy)
    if found.state is not None and mode != journal.DONE:
        engineops.refuse_in_use(run.engine, run.settings.state_volume, stopped_too=True)


def _counts(found: Inventory, chosen: plan.Plan) -> str:
    files = inventory.files(found)
    return (
        f"{len(files)} files, {inventory.total_size(files) / 1e6:.1f} MB: {len(chosen.carried)} to carry, "
        f"{len(chosen.code)} code and {len(chosen.unknown)} unknown left behind"
    )


def _backup_volume(run: Run, source: str) -> str:
    """A new backup of `source`, proven identical; its name."""
    name = volumes.backup_name(source, datetime.now(UTC))
    _proven_backup(run, source, name, run.helper.inventory(source))
    return name


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
        raise CopyNotProven(f"the backup {name} of {source}", wrong)


def _make_state(run: Run, chosen: plan.Plan, backup: str) -> None:
    """(Re)make the state volume from scratch and prove it holds exactly what the plan expects."""
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
        raise CopyNotProven(f"the state volume {state}", wrong)


def _record(run: Run, started: str, backup: str) -> None:
    entry = ledger.Entry(
        EVENT, run.commit, "", "", started, ledger.now(), ledger.operator(), ledger.SUCCEEDED,
        backup=backup, restored_from=run.legacy,
    )  # fmt: skip
    ledger.append(run.settings, run.engine, entry)
