"""Checks of a running service container: what runs, as whom, on what filesystem, with which mounts.

What the engine knows (image id, mounts, health, read-only flag) comes from
inspect data and is judged by pure functions; who owns the code and its modes
come from the archive of the code path that verify reads once for its digest;
what only the inside knows (the process's user, whether a write to the root
fails) is asked with testinfra's modules over `docker exec`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from docker.models.containers import Container

from deploy.config import CODE_PATH
from deploy.ids import short

WRITE_PROBE = "/.tradebot-verify-probe"
SOCKET_NAMES = ("docker.sock", "docker.socket")


@dataclass(frozen=True)
class Check:
    target: str
    name: str
    ok: bool
    detail: str = ""

    def failure(self) -> str:
        return f"{self.target} fails '{self.name}'" + (f" ({self.detail})" if self.detail else "")

    def to_json(self) -> dict[str, object]:
        return {"target": self.target, "name": self.name, "ok": self.ok, "detail": self.detail}


def overlaps_code_path(destination: str) -> bool:
    """A mount at, above or below the code path changes what the code path shows."""
    dest = destination.rstrip("/") or "/"
    return dest == CODE_PATH or CODE_PATH.startswith(dest + "/") or dest.startswith(CODE_PATH + "/")


def is_docker_socket(mount: Mapping[str, Any]) -> bool:
    ends = (str(mount.get("Source", "")), str(mount.get("Destination", "")))
    return any(end.rstrip("/").endswith(SOCKET_NAMES) for end in ends)


def mounts_checks(target: str, mounts: Sequence[Mapping[str, Any]]) -> list[Check]:
    over = [f"{m.get('Type')} {m.get('Name') or m.get('Source')} at {m['Destination']}" for m in mounts]
    code = [desc for desc, m in zip(over, mounts, strict=True) if overlaps_code_path(m["Destination"])]
    sockets = [desc for desc, m in zip(over, mounts, strict=True) if is_docker_socket(m)]
    return [
        Check(target, f"no mount over or under {CODE_PATH}", not code, "; ".join(code)),
        Check(target, "no Docker socket mounted", not sockets, "; ".join(sockets)),
    ]


def running_check(target: str, attrs: Mapping[str, Any]) -> Check:
    """Running and never restarted (as `deploy.health` judges it): only then can anything be asked inside.

    A crash loop seen between two restarts says `running`; its restart count gives it away.
    """
    state = attrs.get("State") or {}
    status, restarts = state.get("Status", "unknown"), attrs.get("RestartCount", 0)
    steady = status == "running" and not restarts
    detail = f"{status}, exit code {state.get('ExitCode')}, restarted {restarts} times"
    return Check(target, "running", steady, "" if steady else detail)


def health_status(attrs: Mapping[str, Any]) -> str:
    return ((attrs.get("State") or {}).get("Health") or {}).get("Status", "no healthcheck")


def inspect_checks(target: str, attrs: Mapping[str, Any], live_image_id: str, probed: bool = False) -> list[Check]:
    """Judge a container from its inspect data against the live image.

    `probed`: its health-check command, run just now, passed; that counts while the engine says `starting`.
    """
    image = attrs.get("Image", "")
    health = health_status(attrs)
    healthy = health == "healthy" or (health == "starting" and probed)
    detail = {"healthy": "", "starting": f"starting, probe {'passed' if probed else 'failed'}"}.get(health, health)
    return [
        Check(target, "runs the live image", image == live_image_id, "" if image == live_image_id else short(image)),
        Check(target, "read-only root filesystem", bool(attrs["HostConfig"].get("ReadonlyRootfs"))),
        *mounts_checks(target, attrs.get("Mounts") or []),
        Check(target, "healthy", healthy, detail),
    ]


def user_check(target: str, trading: Sequence[str], as_root: Sequence[str]) -> Check:
    """`trading`: command lines of the `python3 -m trading` processes; `as_root`: those of them run by root."""
    if not trading:
        return Check(target, "process runs as non-root", False, "no `python3 -m trading` process")
    return Check(target, "process runs as non-root", not as_root, "; ".join(f"root runs {args}" for args in as_root))


def write_check(target: str, returncode: int, stderr: str) -> Check:
    refused = returncode != 0 and "read-only" in stderr.lower()
    return Check(target, "writing the root filesystem fails", refused, "" if refused else stderr.strip() or "it worked")


def writable(uid: int, gid: int, mode: int, runs_as_root: bool) -> bool:
    """Whether the runtime user may write it: it is not root's, the runtime user is root, or its mode lets others write.

    Group write counts unless the group is root's (the runtime user is never in it).
    """
    return uid != 0 or runs_as_root or bool(mode & 0o002) or (gid != 0 and bool(mode & 0o020))


def code_owner_check(target: str, owners: Sequence[tuple[str, int, int, int]], runs_as_root: bool) -> Check:
    """`owners`: `(path, uid, gid, mode)` of the code; none may be writable by the processes' user."""
    lines = [
        f"{uid}:{gid} {mode:o} {path}" for path, uid, gid, mode in owners if writable(uid, gid, mode, runs_as_root)
    ]
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    return Check(target, "code owned by root, not writable by the runtime user", not lines, ", ".join(lines[:5]) + more)


def inside_checks(target: str, container: Container, owners: Sequence[tuple[str, int, int, int]]) -> list[Check]:
    """Ask inside the container (testinfra over `docker exec`, as the container's runtime user).

    `owners`: `(path, uid, gid, mode)` of the code, from the archive of the code path.
    """
    import testinfra  # it imports pytest: only verify pays for it

    host = testinfra.get_host(f"docker://{container.id}")
    trading = [p.args for p in host.process.filter(comm="python3") if "-m trading" in p.args]
    as_root = [p.args for p in host.process.filter(comm="python3", uid=0) if "-m trading" in p.args]
    write = host.run(f"touch {WRITE_PROBE} && rm -f {WRITE_PROBE}")
    return [
        user_check(target, trading, as_root),
        write_check(target, write.rc, write.stderr),
        code_owner_check(target, owners, runs_as_root=bool(as_root)),
    ]
