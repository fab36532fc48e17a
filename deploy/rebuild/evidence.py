"""A volume rebuild's figures, as its report keeps them (`Report.rebuild`): pure, JSON-ready.

legacy, state_volume, commit     what was rebuilt into what; layout and drift at that commit
backup, replaced                 the proven copy of the legacy volume; of the state replaced (--force)
inventory                        files, bytes, and how many were carried, left behind as code or unknown
carried, unknown                 each file with its size and sha256 — a secret's hash is never kept
skipped                          each file never carried (FIFO, socket, device, or excluded), with the reason
drift                            the summary and a row per code path (short hashes)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from deploy.rebuild import drift, inventory

if TYPE_CHECKING:
    from deploy.rebuild.procedure import Decided


def figures(legacy: str, state: str, commit: str, d: Decided, rows: Iterable[drift.Row]) -> dict[str, Any]:
    files, chosen, rows = inventory.files(d.found), d.chosen, list(rows)
    return {
        "legacy": legacy,
        "state_volume": state,
        "commit": commit,
        "backup": d.backup,
        "replaced": d.replaced or "",
        "inventory": {
            "files": len(files),
            "bytes": inventory.total_size(files),
            "carried": len(chosen.carried),
            "code": len(chosen.code),
            "unknown": len(chosen.unknown),
            "kept": list(chosen.kept),
        },
        "carried": [
            {"from": c.item.path, "to": c.to, "size": c.item.size, "sha256": "" if c.secret else c.item.sha256 or ""}
            for c in chosen.carried
        ],
        "unknown": [{"path": item.path, "size": item.size, "sha256": item.sha256 or ""} for item in chosen.unknown],
        "skipped": [{"path": s.item.path, "kind": s.item.kind, "reason": s.reason} for s in chosen.skipped],
        "drift": {"summary": drift.summary(rows), "rows": [asdict(row) for row in rows]},
    }
