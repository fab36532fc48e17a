"""What verify reads about the processes of a service container: the kernel's facts, read from beside it.

It runs in verify's side container (`deploy.verify.points.sidecar_spec`): a throw-away container of the live
image in the service container's PID namespace, as root with no capability but SYS_PTRACE (which reading
another user's /proc/<pid>/exe, maps and cwd needs), without network, on a read-only root. Nothing the
service's user (uid 10001) runs can ptrace, signal or rewrite it, which an exec in the container (as that
user) could not promise. `python3 -I -c <this file>` prints one JSON document:

    clk_tck, uptime   clock ticks per second and seconds since boot: a process's age is uptime - start / clk_tck
    processes         every other process: pid, ppid, state, start (ticks since boot), uid and gid (real,
                      effective, saved, filesystem), groups, seccomp (2: a filter), no_new_privs, cap_eff,
                      exe, the files behind its executable mappings, cmdline (a list)
    mounts            the container's mounts, as its pid 1 sees them: [{at, options, type}]

Only the command line is the process's own word (it can rewrite its memory); everything else is the kernel's.
A process caught between the runtime's fork and its exec (`runc init`: an exec or health check starting;
its executable, the runtime's own copy, reads as `/` from here, and still does for an instant after the
exec has given it its new command line; the other half of that instant: the new executable, no command line
yet) or while it ends (no executable yet no zombie) is no process of its own yet: the list is read again
until none is left, for at most `SETTLE` seconds; one that stays is reported as it is.
Standard library only (the image has nothing else), and no import of `trading`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

SETTLE = 5.0
RUNTIME_EXE = "/"  # how the runtime's executable reads from a container (measured: runc of Docker 20.10)


def status_fields(text: str) -> dict[str, str]:
    """`/proc/<pid>/status` as `{field: value}`."""
    return {name: value.strip() for name, _, value in (line.partition(":") for line in text.splitlines())}


def ids(value: str) -> list[int]:
    return [int(part) for part in value.split()]


PF_KTHREAD = 0x00200000


def stat_fields(text: str) -> tuple[str, int, int, bool]:
    """State, parent pid, start time (ticks since boot) and whether it is a kernel thread, from `/proc/<pid>/stat`
    (the name may hold spaces)."""
    after = text.rsplit(")", 1)[1].split()
    return after[0], int(after[1]), int(after[19]), bool(int(after[6]) & PF_KTHREAD)


def executable_files(maps: str) -> list[str]:
    """The files behind the executable mappings (permissions with `x`); anonymous and special ones left out."""
    found = set()
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and "x" in fields[1] and fields[5].startswith("/"):
            found.add(fields[5])
    return sorted(found)


def read(path: str, binary: bool = False) -> Any:
    with open(path, "rb" if binary else "r") as file:
        return file.read()


def link(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:  # a zombie has no executable
        return None


def process(proc: str, pid: str) -> dict[str, Any] | None:
    """The kernel's facts about one process (None for a kernel thread); OSError when it ended while read."""
    state, ppid, start, kernel = stat_fields(read(f"{proc}/{pid}/stat"))
    if kernel:  # only where the host's /proc is read (a test): a container's PID namespace has none
        return None
    status = status_fields(read(f"{proc}/{pid}/status"))
    return {
        "pid": int(pid),
        "ppid": ppid,
        "state": state,
        "start": start,
        "uid": ids(status.get("Uid", "")),
        "gid": ids(status.get("Gid", "")),
        "groups": ids(status.get("Groups", "")),
        "seccomp": int(status.get("Seccomp", "-1")),
        "no_new_privs": int(status.get("NoNewPrivs", "-1")),
        "cap_eff": int(status.get("CapEff", "0"), 16),
        "exe": link(f"{proc}/{pid}/exe"),
        "executable": executable_files(read(f"{proc}/{pid}/maps")),
        "cmdline": [arg.decode(errors="replace") for arg in read(f"{proc}/{pid}/cmdline", True).split(b"\0")[:-1]],
    }


def processes(proc: str = "/proc") -> list[dict[str, Any]]:
    """Every process but this one (those that end while listed are left out)."""
    found, me = [], str(os.getpid())
    for pid in sorted((name for name in os.listdir(proc) if name.isdigit() and name != me), key=int):
        try:
            facts = process(proc, pid)
        except (OSError, IndexError, ValueError):
            continue
        found += [facts] if facts is not None else []
    return found


def transitional(process: dict[str, Any]) -> bool:
    """A process the runtime is still starting (`runc init`, or its executable `/`: the runtime's copy of itself,
    out of this namespace's reach), one inside its exec (no command line: the kernel sets it after the new
    executable; a process cannot empty its own without CAP_SYS_RESOURCE), or one ending (no executable, not yet
    a zombie)."""
    starting = process["cmdline"] in (["runc", "init"], []) or process["exe"] == RUNTIME_EXE
    ending = process["exe"] is None
    return (starting or ending) and process["state"] not in ("Z", "X")


def settled(proc: str, settle: float) -> list[dict[str, Any]]:
    """`processes`, read again while one is transitional, for at most `settle` seconds."""
    deadline = time.monotonic() + settle
    while True:
        found = processes(proc)
        if not any(transitional(p) for p in found) or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)


def mounts(mountinfo: str) -> list[dict[str, str]]:
    """`[{at, options, type}]` from a `mountinfo` (per-mount options; the type follows the ` - ` separator)."""
    found = []
    for line in mountinfo.splitlines():
        before, _, after = line.partition(" - ")
        fields = before.split()
        found.append({"at": fields[4], "options": fields[5], "type": after.split()[0] if after else ""})
    return found


def main(proc: str = "/proc", settle: float = SETTLE) -> dict[str, Any]:
    found = settled(proc, settle)
    return {
        "clk_tck": os.sysconf("SC_CLK_TCK"),
        "uptime": float(read(f"{proc}/uptime").split()[0]),
        "processes": found,
        "mounts": mounts(read(f"{proc}/1/mountinfo")),
    }


if __name__ == "__main__":
    json.dump(main(*sys.argv[1:]), sys.stdout)
