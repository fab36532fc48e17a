"""Checks of a running service container: what runs, as whom, on what filesystem, with which mounts.

What the engine knows (image id, mounts, health, read-only flag) comes from
inspect data and is judged by pure functions; who owns the code and its modes
come from the archive of the code path that verify reads once for its digest;
what the kernel knows about the processes (who they run as, what they run and map,
the mounts) from verify's side container, judged by `deploy.verify.processes`. All of it
is judged without I/O.

Where testinfra's modules would do the same, one batched read wins on time and
they serve as the independent oracle in the integration tests instead:
`host.file(p).user/.group/.mode` per file is an exec each (the archive headers
hold all of them at once), `host.mount_point` an exec (the engine's mount list
is in the inspect data), `host.process` an exec of `ps` (`inside` lists /proc from
the side container, where nothing in the container can change its answer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deploy.config import CODE_PATH
from deploy.ids import short
from deploy.policy.check import Check
from deploy.verify import processes

SOCKET_NAMES = ("docker.sock", "docker.socket")
CODE_OWNER = "code owned by root, not writable by the runtime user"


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
    """Running and never restarted (as `deploy.steps.health` judges it): only then can anything be asked inside.

    A crash loop seen between two restarts says `running`; its restart count gives it away.
    """
    state = attrs.get("State") or {}
    status, restarts = state.get("Status", "unknown"), attrs.get("RestartCount", 0)
    steady = status == "running" and not restarts
    detail = f"{status}, exit code {state.get('ExitCode')}, restarted {restarts} times"
    return Check(target, "running", steady, "" if steady else detail)


def health_status(attrs: Mapping[str, Any]) -> str:
    return ((attrs.get("State") or {}).get("Health") or {}).get("Status", "no healthcheck")


def inspect_checks(
    target: str, attrs: Mapping[str, Any], live_image_id: str, probed: bool = False, said: str = ""
) -> list[Check]:
    """Judge a container from its inspect data against the live image.

    `probed`: its health-check command, run just now, passed; that counts while the engine says `starting`.
    `said`: what a failed probe said last.
    """
    image = attrs.get("Image", "")
    health = health_status(attrs)
    healthy = health == "healthy" or (health == "starting" and probed)
    failed = f"failed: {said}" if said else "failed"
    detail = {"healthy": "", "starting": f"starting, probe {'passed' if probed else failed}"}.get(health, health)
    return [
        Check(target, "runs the live image", image == live_image_id, "" if image == live_image_id else short(image)),
        Check(target, "read-only root filesystem", bool(attrs["HostConfig"].get("ReadonlyRootfs"))),
        *mounts_checks(target, attrs.get("Mounts") or []),
        Check(target, "healthy", healthy, detail),
    ]


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
    return Check(target, CODE_OWNER, not lines, ", ".join(lines[:5]) + more)


def inside_checks(
    target: str,
    attrs: Mapping[str, Any],
    facts: Mapping[str, Any],
    beat: Mapping[str, Any] | None,
    owners: Sequence[tuple[str, int, int, int]],
) -> list[Check]:
    """Judge the processes (`facts` of verify's side container, `beat`: the heartbeat) and the code's owners.

    `owners`: `(path, uid, gid, mode)` of the code; writable by root when the service process runs as root.
    """
    root = processes.runs_as_root(facts, processes.Expected.of(attrs, facts.get("sidecar") or ()))
    return [*processes.checks(target, attrs, facts, beat), code_owner_check(target, owners, root)]


def inside_failed(target: str, why: str) -> list[Check]:
    """The checks that needed the side container, failed: it could not read the container's processes."""
    detail = f"could not look inside: {why}"
    return [Check(target, name, False, detail) for name in (*processes.NAMES, CODE_OWNER)]
