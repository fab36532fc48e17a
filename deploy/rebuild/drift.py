"""Drift between the code a legacy volume held and `trading/` at a commit (the seed's repo ↔ volume table).

Each legacy code file that `layout.repo_path` maps onto `trading/` is compared by sha256 with
that file at the commit: `same`, `changed`, `only in volume`; files of `trading/` no legacy file
maps onto are `only in repo`. Byte caches are not code (`trading.codedigest.is_code_path`).
Pure functions only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from deploy.ids import short
from deploy.output.render import template
from deploy.rebuild.inventory import Item
from deploy.rebuild.layout import Layout
from trading.codedigest import is_code_path

SAME = "same"
CHANGED = "changed"
ONLY_VOLUME = "only in volume"
ONLY_REPO = "only in repo"


@dataclass(frozen=True)
class Row:
    path: str  # under trading/
    status: str
    volume: str  # short hashes, "" where absent
    repo: str


def compare(code: Iterable[Item], repo_files: Mapping[str, str], layout: Layout) -> list[Row]:
    """One row per code path on either side, sorted by path."""
    volume = {}
    for item in code:
        mapped = layout.repo_path(item.path)
        if mapped is not None and is_code_path(mapped):
            volume[mapped] = item.sha256 or ""
    rows = [_row(path, volume.get(path), repo_files.get(path)) for path in volume.keys() | repo_files.keys()]
    return sorted(rows, key=lambda row: row.path)


def _row(path: str, volume: str | None, repo: str | None) -> Row:
    if volume is None:
        status = ONLY_REPO
    elif repo is None:
        status = ONLY_VOLUME
    else:
        status = SAME if volume == repo else CHANGED
    return Row(path, status, short(volume or ""), short(repo or ""))


def summary(rows: Iterable[Row]) -> str:
    counts = Counter(row.status for row in rows)
    return ", ".join(f"{counts[status]} {status}" for status in (SAME, CHANGED, ONLY_VOLUME, ONLY_REPO))


def render(rows: list[Row], commit: str) -> str:
    """The drift table (`templates/rebuild_drift.txt.j2`)."""
    return template("rebuild_drift.txt.j2", rows=rows, commit=commit, summary=summary(rows)).rstrip("\n")
