"""The state store: one crash-safe JSON document shared by the bot and the worker.

persistence  StateStore: flock transactions, atomic replace, checksums, backups,
             fallback to the newest valid backup, migrations
holder       StateHolder: state kept in memory across a tick, saved with conflict
             detection and the section-ownership merge (`merge`)
document     the on-disk format (envelope, checksum, schema version)
migrations   the legacy (unversioned) document and new states
atomic, locking, backups   durability, cross-process locks, rotated copies
"""

from trading.store.document import Document, State, utcnow
from trading.store.holder import StateHolder
from trading.store.migrations import new_state
from trading.store.persistence import StateStore

__all__ = ["Document", "State", "StateHolder", "StateStore", "new_state", "utcnow"]
