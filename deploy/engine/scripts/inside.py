"""What verify asks inside a running service container, in one exec: run there by the image's python3.

`python3 -c <this file> HEARTBEAT PROBE` prints one JSON document:

    processes   [{pid, uid, comm, args}] of every other process (uid: the owner of /proc/<pid>, its effective uid)
    write       {errno, error}: creating PROBE as the container's user (errno 30, EROFS, when refused)
    heartbeat   the role's heartbeat document at HEARTBEAT (null with `heartbeat_error` when unreadable)

Why one script and not testinfra's modules: `host.process` is one `docker exec` of `ps` per call
and the root-write probe another; this is one exec for all three. The code itself is never read
here: its digest, owners and modes come from the engine's archive of the code path, which no program
inside the container can dress up.

Standard library only (the image has nothing else), and no import of `trading`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def processes(proc: str = "/proc") -> list[dict[str, Any]]:
    """Every process but this one: pid, effective uid, command name and argv joined by spaces (gone ones skipped)."""
    found, me = [], str(os.getpid())
    for pid in sorted((name for name in os.listdir(proc) if name.isdigit() and name != me), key=int):
        try:
            uid = os.stat(f"{proc}/{pid}").st_uid
            with open(f"{proc}/{pid}/comm") as comm, open(f"{proc}/{pid}/cmdline", "rb") as cmdline:
                name, argv = comm.read().strip(), cmdline.read().rstrip(b"\0").split(b"\0")
        except OSError:  # it ended while listed
            continue
        found.append({"pid": int(pid), "uid": uid, "comm": name, "args": b" ".join(argv).decode(errors="replace")})
    return found


def write(path: str) -> dict[str, Any]:
    """Try to create `path` (and remove it again); the errno and message of the refusal, or 0 and ''."""
    try:
        with open(path, "x"):
            pass
    except OSError as exc:
        return {"errno": exc.errno, "error": f"{exc.strerror}: {path}"}
    os.remove(path)
    return {"errno": 0, "error": ""}


def heartbeat(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as document:
            return {"heartbeat": json.loads(document.read())}
    except (OSError, ValueError) as exc:
        return {"heartbeat": None, "heartbeat_error": str(exc)}


def main(argv: list[str]) -> dict[str, Any]:
    beat, probe = argv
    return {"processes": processes(), "write": write(probe), **heartbeat(beat)}


if __name__ == "__main__":
    json.dump(main(sys.argv[1:]), sys.stdout)
