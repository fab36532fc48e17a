"""Inventories and layouts for the rebuild's unit tests: the real volumes/layout.toml and made-up volumes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from deploy.rebuild import layout
from deploy.rebuild.inventory import Inventory, Item

ROOT = Path(__file__).resolve().parents[4]


def real_layout() -> layout.Layout:
    return layout.parse((ROOT / layout.PATH).read_text())


def item(path: str, content: str = "", mode: int = 0o644, uid: int = 1000, kind: str = "file") -> Item:
    return Item(path, kind, len(content), mode, uid, uid, hashlib.sha256(content.encode()).hexdigest())


def volume(*paths: str, **contents: str) -> Inventory:
    """An inventory holding `paths` (content: the path itself) and the root directory."""
    found = {".": Item(".", "dir", 0, 0o755, 0, 0, None)}
    found.update({p: item(p, contents.get(p, p)) for p in paths})
    return found
