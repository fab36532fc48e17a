"""The role locks: one process at a time trades (`bot.lock`) and one applies commands (`worker.lock`), of one release.

`take` holds the role's lock until the process lets go (`let_go`, once its final save is done) or ends:

1. Free: it is ours. Held: with `wait=False` (`--no-wait`) `RoleLockHeldError` (exit 4); else the
   process stands by (`standing_by`, naming the holder) until the holder lets go or a stop signal
   comes (then None: the process ends without having touched the state). This is how a deploy
   starts the next release beside the running one and hands over.
2. Claim: a forked child must fail to take the lock (a mount where flock does not exclude is
   refused, exit 6); the lock file's content becomes the holder record (one JSON line:
   pid, process_start, host, role, release, since; best effort on a full volume); the role's
   heartbeat files of other hosts older than a day go (never the one of the holder just replaced).
   The record is written before the fence: a new bot and a new worker taking over at once each see
   the other's record of their own release (with the fence first, each saw the old release's record
   in the other's lock file and waited for the other for ever).
3. The release fence: while the *other* role's lock is held by a process of another release (its
   holder record names another `release`, or cannot be read: an older release's plain line, or a
   record being written), it waits (`fenced`). A lock file with no record at all is held by a first
   holder whose record a full volume refused: not another release's. So an old
   bot's final save never meets a new worker's write, nor an old worker a state the new bot
   migrated: the locks decide, not timing. Then `locked`.

Nothing here opens the state document, the command bus or the backups.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from trading import heartbeat, stages
from trading.config import Settings
from trading.errors import RoleLockHeldError
from trading.stages import Reporter
from trading.store.document import utcnow
from trading.store.locking import Stoppable, open_lock, refuse_unsafe, try_exclusive, wait_exclusive

BEAT_SECONDS = 1.0  # how often a waiting process refreshes its heartbeat
FENCE_SECONDS = 0.002  # how often the fence looks at the other role's lock again


def other(role: str) -> str:
    return "worker" if role == "bot" else "bot"


def holder(path: Path) -> dict[str, Any] | None:
    """The holder record in the lock file at `path`; `{"text": …}` for an older holder's plain line; None when empty."""
    try:
        text = path.read_text(errors="replace").strip()
    except FileNotFoundError:
        return None
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return {"text": text}
    return record if isinstance(record, dict) else {"text": text}


def record(role: str, release: str) -> dict[str, Any]:
    pid = os.getpid()
    return {
        "pid": pid,
        "process_start": heartbeat.process_start(pid),
        "host": heartbeat.this_host(),
        "role": role,
        "release": release,
        "since": utcnow(),
    }


def take(settings: Settings, role: str, stop: Stoppable, reporter: Reporter, wait: bool = True) -> int | None:
    """The role's lock, held until the process ends (its fd); None when a stop came while waiting."""
    path, release = settings.role_lock(role), reporter.release or ""
    fd = open_lock(path)
    replaced = None
    if not try_exclusive(fd):
        replaced = holder(path)
        if not wait:
            os.close(fd)
            raise RoleLockHeldError(role, path, json.dumps(replaced) if replaced else "")
        if not stand_by(fd, path, stop, reporter):
            return None
    claim(fd, settings, role, release, (replaced or {}).get("host"))
    if not fence(settings.role_lock(other(role)), release, stop, reporter):
        return None
    reporter.reach(stages.LOCKED)
    return fd


def let_go(fd: int) -> None:
    """Let go of the role's lock once the final save is done: the process standing by takes over now, not when
    this process has ended (an interpreter's exit takes tens of milliseconds more). The process does nothing
    after it but end."""
    os.close(fd)


def stand_by(fd: int, path: Path, stop: Stoppable, reporter: Reporter) -> bool:
    """Wait for the lock on `fd`, standing by visibly; False when a stop came first."""
    reporter.reach(stages.STANDING_BY, waiting_for=holder(path))
    return wait_exclusive(fd, stop, BEAT_SECONDS, lambda: reporter.waiting(stages.STANDING_BY, holder(path)))


def fence(path: Path, release: str, stop: Stoppable, reporter: Reporter) -> bool:
    """Wait while the lock at `path` (the other role's) is held by another release; False when a stop came first."""
    fd, said = open_lock(path), 0.0
    try:
        while (held := other_release(fd, path, release)) is not None:
            if time.monotonic() - said >= BEAT_SECONDS:
                reporter.waiting(stages.FENCED, held)
                said = time.monotonic()
            if stop.wait(FENCE_SECONDS):
                return False
        return True
    finally:
        os.close(fd)


def other_release(fd: int, path: Path, release: str) -> dict[str, Any] | None:
    """The holder of the lock at `path` when it is held by another release (or an unreadable one), else None."""
    if try_exclusive(fd):
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    found = holder(path)
    if found is None:  # no record: a first holder whose record a full volume refused (a claim never empties it)
        return None
    return None if found.get("release") == release else found


def claim(fd: int, settings: Settings, role: str, release: str, replaced: str | None) -> None:
    """Prove the lock excludes, write the holder record, prune the role's old heartbeat files."""
    path = settings.role_lock(role)
    refuse_unsafe(path)
    line = (json.dumps(record(role, release), sort_keys=True) + "\n").encode()
    try:
        os.pwrite(fd, line, 0)  # then cut: a reader meanwhile sees a torn record (unreadable), never none
        os.ftruncate(fd, len(line))
    except OSError as exc:
        if not heartbeat.full_error(exc):
            raise  # on a full volume the lock alone keeps the other off; the record names the holder
    heartbeat.prune(settings.heartbeat_file(role).with_suffix(""), time.time(), replaced)
