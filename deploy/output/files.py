"""Writing what an operator asked to keep in a file (`report --out PATH`): checked first, replaced whole, or refused.

Rules:
- an existing file is replaced only with `force`; a directory, a missing directory or an unwritable
  place is one `OutputError` line (exit 13) naming the path, never a traceback;
- the file appears whole or not at all: written beside it, then renamed over it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from deploy.errors import OutputError


def checked(path: str, force: bool) -> Path:
    """`path` as a file that may be written; raises OutputError before any work is done when it may not."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{path} is a directory", f"name a file in it, e.g. {target / 'report.md'}", path=path)
    if not target.parent.is_dir():
        raise OutputError(
            f"{target.parent} does not exist", f"create it (mkdir -p {target.parent}) or choose another path", path=path
        )
    if target.exists() and not force:
        raise OutputError(f"{path} exists", "choose another path, or add --force to replace it", path=path)
    return target


def write(target: Path, text: str) -> None:
    """Write `text` to `target` whole: a temporary file in its directory, renamed over it."""
    temporary = ""
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(temporary, target)
    except OSError as exc:
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        hint = "choose a file in a directory you may write"
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}", hint, path=str(target)) from exc
