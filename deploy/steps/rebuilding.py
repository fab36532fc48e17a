"""What a volume rebuild leaves on the engine that every other command must respect.

Rules:
- A rebuild is unfinished while its journal volume `<state>-rebuilding` exists, whatever other
  volumes exist (a run killed before it made the state volume leaves no state volume at all),
  and while the state volume says it was rebuilt (`io.tradebot.rebuilt-from`) but the ledger has no
  succeeded `volume-rebuild` entry for it (its `io.tradebot.legacy-backup`): the journal was
  removed by hand before the run finished. Deploy, rollback and restore refuse both
  (`refuse_unfinished`); the rebuild finishes them.
- The legacy bot's containers — any container that mounts the legacy volume the state volume was
  rebuilt from, running or stopped (`restart: always` brings a stopped one back with dockerd) —
  would trade beside the new bot on the old state: refused while they exist (`legacy_writers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import docker
import docker.errors

from deploy.config import Settings
from deploy.errors import LegacyWriters, RebuildUnfinished
from deploy.records.ledger import SUCCEEDED, Entry
from deploy.steps.backups import REBUILD_OF, rebuild_marker

EVENT = "volume-rebuild"
REBUILT_FROM = "io.tradebot.rebuilt-from"
LEGACY_BACKUP = "io.tradebot.legacy-backup"

Labels = Mapping[str, str]


def finished(state: Labels | None, entries: Iterable[Entry]) -> bool:
    """Whether the ledger records the rebuild the state volume's labels name as succeeded (True for a
    state volume no rebuild made)."""
    legacy = (state or {}).get(REBUILT_FROM)
    if legacy is None:
        return True
    backup = (state or {}).get(LEGACY_BACKUP)
    return any(
        e.event == EVENT and e.outcome == SUCCEEDED and e.backup == backup and e.restored_from == legacy
        for e in entries
    )


def unfinished(journal: Labels | None, state: Labels | None, entries: Iterable[Entry]) -> str | None:
    """The legacy volume of an unfinished rebuild, else None (the rules in the module docstring)."""
    if journal is not None:
        return journal.get(REBUILD_OF, "the legacy volume")
    if not finished(state, entries):
        return (state or {}).get(REBUILT_FROM)
    return None


def refused(volume: str, legacy: str) -> RebuildUnfinished:
    return RebuildUnfinished(
        f"the rebuild of {volume} from {legacy} did not finish, so the state volume is not proven",
        f"run `invoke volume-rebuild --legacy {legacy}` again: it finishes the rebuild",
        volume=volume,
        legacy=legacy,
    )


def labels_of(engine: docker.DockerClient, name: str) -> dict[str, str] | None:
    """The labels of volume `name`, None when there is no such volume."""
    try:
        return dict(engine.volumes.get(name).attrs.get("Labels") or {})
    except docker.errors.NotFound:
        return None


def refuse_unfinished(settings: Settings, engine: docker.DockerClient, entries: Iterable[Entry]) -> None:
    """`RebuildUnfinished` while a rebuild of the state volume is unfinished; `entries`: the ledger."""
    volume = settings.state_volume
    legacy = unfinished(labels_of(engine, rebuild_marker(volume)), labels_of(engine, volume), entries)
    if legacy is not None:
        raise refused(volume, legacy)


def legacy_writers(engine: docker.DockerClient, legacy: str) -> list[str]:
    """The names of every container, running or not, that mounts the volume `legacy`."""
    return sorted(
        container.name
        for container in engine.containers.list(ignore_removed=True, all=True, filters={"volume": legacy})
    )


def refuse_legacy_writers(engine: docker.DockerClient, legacy: str | None, ours: Iterable[str] = ()) -> None:
    """`LegacyWriters` while containers other than `ours` (names) mount `legacy` (None: no legacy, nothing to do)."""
    if legacy is None:
        return
    writers = [name for name in legacy_writers(engine, legacy) if name not in set(ours)]
    if writers:
        raise LegacyWriters(
            f"the legacy bot's containers {', '.join(writers)} mount {legacy}: started again (by hand, or by "
            "dockerd for `restart: always`) they would trade on the old state beside the new bot",
            f"remove them (`docker rm -f {' '.join(writers)}`); {legacy} itself is kept",
            legacy=legacy,
            containers=writers,
        )


def rebuilt_from(engine: docker.DockerClient, settings: Settings) -> str | None:
    """The legacy volume the state volume was rebuilt from, None when no rebuild made it."""
    return (labels_of(engine, settings.state_volume) or {}).get(REBUILT_FROM)
