"""Atomic replace of a file: unique temp in the same directory, fsync, rename, fsync the directory.

A failed write leaves the target untouched and removes its temp file.  Temp files a killed
process left behind carry ``TEMP_MARKER`` in their name and are removed by ``clean_stale_temps``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

TEMP_MARKER = ".tmp-"


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(target: Path, data: bytes, durable: bool = True) -> Path:
    """Write ``data`` to a new temp file beside ``target`` (fsynced when ``durable``); remove it on failure."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}{TEMP_MARKER}", dir=target.parent)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(name)
        raise
    os.close(fd)
    return Path(name)


def replace_file(
    target: Path, data: bytes, before_rename: Callable[[], None] | None = None, durable: bool = True
) -> None:
    """Atomically make ``target`` hold ``data``; ``before_rename`` runs after the temp is written.

    ``durable=False`` skips the fsyncs: still atomic for readers, not across a power loss.
    """
    temp = write_temp(target, data, durable)
    try:
        if before_rename is not None:
            before_rename()
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    if durable:
        fsync_dir(target.parent)


def clean_stale_temps(target: Path) -> list[Path]:
    """Remove temp files an interrupted writer of ``target`` left behind (call under the lock)."""
    stale = sorted(target.parent.glob(f".{target.name}{TEMP_MARKER}*"))
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return stale
