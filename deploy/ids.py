"""Short forms of the long ids operators read: commits, image ids and digests.

One rule everywhere: 12 hex digits, without an image id's `sha256:` prefix, so
a commit, an image and a digest read the same in every message and table.
"""

from __future__ import annotations

SHORT_LENGTH = 12


def short(value: str) -> str:
    """`c0ffee…` (40 or 64 hex digits, or `sha256:…`) → its first 12 hex digits."""
    return value.removeprefix("sha256:")[:SHORT_LENGTH]
