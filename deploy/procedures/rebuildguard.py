"""What deploy, rollback and restore refuse under the lock, before anything changes, because of a volume rebuild.

- A rebuild of the state volume that did not finish (`deploy.steps.rebuilding.refuse_unfinished`), whatever
  volumes exist: a rebuild killed after its journal volume was made but before the state volume was would
  otherwise let a deploy create an empty state volume and start a fresh portfolio on it, which the rebuild,
  run again to finish, then replaces.
- The legacy bot's containers, while the state volume was rebuilt from a legacy volume they mount
  (`deploy.steps.rebuilding.refuse_legacy_writers`): started again they trade on the old state beside the bot.

Both raise before recovery: a refusal changes nothing, not even what a killed attempt left.
"""

from __future__ import annotations

from deploy.procedures.procedure import Deployment
from deploy.steps import rebuilding


def refuse(d: Deployment) -> None:
    """`RebuildUnfinished` or `LegacyWriters` (exit 9) when a rebuild forbids the command; see the module docstring."""
    rebuilding.refuse_unfinished(d.settings, d.engine, d.records.entries())
    rebuilding.refuse_legacy_writers(d.engine, rebuilding.rebuilt_from(d.engine, d.settings))
