"""`invoke volume-rebuild --plan`: what a rebuild would do, changing nothing.

It captures the live state — the deployment's (`deploy.steps.snapshot`: release, containers, the
state file in the state volume, the lock holder, the newest state backup) and the legacy
volume's (every container that mounts it with its image id and health, the state file it
holds with its sha256 and generation, its newest backup) — then the inventory, what happens
to each file and the drift, the steps from the list the run walks (`procedure.later_steps`),
the checks that stop it and the way back. Rendered from `templates/rebuild_plan.txt.j2`.
Only read: helper containers mount the volumes read-only and are removed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import docker

from deploy.config import Settings
from deploy.engine import archive, helpers
from deploy.engine.git import Repository
from deploy.errors import RebuildError
from deploy.output.progress import Say
from deploy.output.render import template
from deploy.procedures.trail import Trail
from deploy.rebuild import drift, resume, triage
from deploy.rebuild import procedure as rebuilding
from deploy.rebuild.inventory import Inventory
from deploy.steps import backups, snapshot
from deploy.steps.status import ContainerState, container_state


@dataclass(frozen=True)
class LegacyState:
    name: str
    created: str
    users: tuple[ContainerState, ...]  # every container that mounts it, running or not
    state_file: str  # the path of the file carried as the state file ("" when none is)
    state: snapshot.StateFacts | None
    newest_backup: str


def show_plan(
    settings: Settings,
    engine: docker.DockerClient,
    repo: Repository,
    legacy: str,
    keep: Sequence[str] = (),
    force: bool = False,
    rev: str = "HEAD",
    say: Say = print,
) -> triage.Plan:
    """Print the live state, the inventory, the drift, the steps a run would take, what stops it and the
    way back; change nothing. Raises what step 1 raises (LegacyMissing, NotLegacy, KeepNotFound, TargetClash)."""
    run = rebuilding.Run.prepare(settings, engine, repo, legacy, rev, say)
    found, chosen, where = rebuilding.inspect(run, keep)
    try:
        decided = rebuilding.decide(run, found, chosen, where, force)
        rebuilding.refuse_busy(run, where, decided.mode)
    except RebuildError as refused:
        say(_render(run, found, chosen, None, f"refuse ({refused.message})"))
    else:
        say(_render(run, found, chosen, decided, _would(decided, legacy, settings.state_volume)))
    return chosen


def _render(
    run: rebuilding.Run, found: Inventory, chosen: triage.Plan, decided: rebuilding.Decided | None, would: str
) -> str:
    state, rows = run.settings.state_volume, run.drift(chosen)
    return template(
        "rebuild_plan.txt.j2",
        s=snapshot.capture(run.settings, run.engine, run.records),
        legacy=capture_legacy(run, chosen),
        state=state,
        marker=backups.rebuild_marker(state),
        replaced=decided.replaced if decided else None,
        files=triage.listing(found, run.layout),
        p=chosen,
        volume=run.legacy,
        target=state,
        rows=rows,
        commit=run.commit,
        summary=drift.summary(rows),
        event="volume-rebuild",
        would=would,
        steps=_steps(run, decided) if decided else [],
    ).rstrip("\n")


def _steps(run: rebuilding.Run, decided: rebuilding.Decided) -> list[str]:
    """Step 1 (which this plan did, read-only), then the run's own list of the later steps."""
    first = f"{rebuilding.INVENTORY}: {rebuilding.inventory_doing(run)} (this plan did it, read-only)"
    if decided.mode == resume.DONE:
        return [first]
    later = rebuilding.later_steps(run, decided, rebuilding.Made(""), Trail())
    return [first, *(f"{step.name}: {step.doing}" for step in later)]


def _would(decided: rebuilding.Decided, legacy: str, state: str) -> str:
    return {
        resume.FRESH: f"back up {legacy} and make {state}",
        resume.RESUME: "finish the interrupted rebuild",
        resume.DONE: f"do nothing ({state} was already rebuilt from {legacy})",
        resume.AGAIN: f"back up the state {state} holds, then rebuild it from {legacy}",
    }[decided.mode]


def capture_legacy(run: rebuilding.Run, chosen: triage.Plan) -> LegacyState:
    engine = run.engine
    users = engine.containers.list(ignore_removed=True, all=True, filters={"volume": run.legacy})
    sources = {c.to: c.item.path for c in chosen.carried if c.to in (snapshot.STATE_FILE, *snapshot.COMMAND_BUS_FILES)}
    newest = backups.newest_first(backups.listed_of(engine, run.legacy))
    return LegacyState(
        run.legacy,
        str(engine.volumes.get(run.legacy).attrs.get("CreatedAt", "")),
        tuple(sorted((container_state(c.attrs) for c in users), key=lambda c: c.name)),
        sources.get(snapshot.STATE_FILE, ""),
        snapshot.state_facts(_fetch(run, sources)),
        newest[0].name if newest else "",
    )


def _fetch(run: rebuilding.Run, sources: Mapping[str, str]) -> dict[str, bytes]:
    """The legacy files at `sources` (target name → path in the legacy volume), by target name."""
    if not sources:
        return {}
    found: dict[str, bytes] = {}
    mounts = helpers.at_root({run.legacy: "ro"})
    with helpers.idle(run.engine, run.helper.image, run.settings.project, mounts) as helper:
        for target, path in sources.items():
            for content in archive.fetch(helper, f"/{run.legacy}/{path}").values():
                found[target] = content
    return found
