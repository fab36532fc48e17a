"""A service's security-relevant settings, read from either side of a deploy. Pure; no I/O.

`Posture` is what the policy judges (`deploy.verify.policy`). It is read from the
commit's compose file (`docker compose config --format json`, before a deploy) and
from a running container's inspect data (verify), so one set of rules judges both.

Normalised: capabilities without a `CAP_` prefix, upper case; security options with
`=` (Docker accepts `seccomp:unconfined` and `seccomp=unconfined`); a volume mount by
its engine name (the compose key resolved through the file's top-level `volumes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NAMESPACES = ("pid", "ipc", "network_mode", "uts")  # compose's names for them
INSPECT_NAMESPACES = {"pid": "PidMode", "ipc": "IpcMode", "network_mode": "NetworkMode", "uts": "UTSMode"}


@dataclass(frozen=True)
class Mount:
    kind: str  # volume, bind, tmpfs, …
    source: str  # a volume's engine name, a bind mount's host path
    target: str


@dataclass(frozen=True)
class Posture:
    privileged: bool = False
    namespaces: Mapping[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    read_only: bool = False
    devices: tuple[str, ...] = ()
    user: str = ""
    ports: tuple[str, ...] = ()


def capabilities(names: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(name.upper().removeprefix("CAP_") for name in names or ())


def options(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(value.replace(":", "=", 1) for value in values or ())


def from_compose(service: Mapping[str, Any], volumes: Mapping[str, Any]) -> Posture:
    """One service of `docker compose config --format json`; `volumes` is the file's top-level `volumes`."""
    return Posture(
        privileged=bool(service.get("privileged")),
        namespaces={name: str(service.get(name) or "") for name in NAMESPACES},
        mounts=tuple(_compose_mount(m, volumes) for m in service.get("volumes") or ()),
        cap_add=capabilities(service.get("cap_add")),
        cap_drop=capabilities(service.get("cap_drop")),
        security_opt=options(service.get("security_opt")),
        read_only=bool(service.get("read_only")),
        devices=tuple(d["source"] if isinstance(d, Mapping) else str(d) for d in service.get("devices") or ()),
        user=str(service.get("user") or ""),
        ports=tuple(f"{p.get('published') or '(any)'}:{p.get('target')}" for p in service.get("ports") or ()),
    )


def _compose_mount(mount: Mapping[str, Any], volumes: Mapping[str, Any]) -> Mount:
    source = str(mount.get("source") or "")
    if mount.get("type") == "volume":
        source = str((volumes.get(source) or {}).get("name") or source)
    return Mount(str(mount.get("type")), source, str(mount.get("target")))


def from_inspect(attrs: Mapping[str, Any]) -> Posture:
    """A container's inspect data (`container.attrs`)."""
    host = attrs.get("HostConfig") or {}
    apparmor = ("apparmor=unconfined",) if attrs.get("AppArmorProfile") == "unconfined" else ()
    return Posture(
        privileged=bool(host.get("Privileged")),
        namespaces={name: str(host.get(key) or "") for name, key in INSPECT_NAMESPACES.items()},
        mounts=tuple(_inspect_mount(m) for m in attrs.get("Mounts") or ()),
        cap_add=capabilities(host.get("CapAdd")),
        cap_drop=capabilities(host.get("CapDrop")),
        security_opt=options(host.get("SecurityOpt")) + apparmor,
        read_only=bool(host.get("ReadonlyRootfs")),
        devices=tuple(str(d.get("PathOnHost")) for d in host.get("Devices") or ()),
        user=str((attrs.get("Config") or {}).get("User") or ""),
        ports=tuple(_published(host.get("PortBindings") or {})),
    )


def _inspect_mount(mount: Mapping[str, Any]) -> Mount:
    source = mount.get("Name") if mount.get("Type") == "volume" else mount.get("Source")
    return Mount(str(mount.get("Type")), str(source or ""), str(mount.get("Destination")))


def _published(bindings: Mapping[str, Any]) -> Iterable[str]:
    for port, hosts in bindings.items():
        for bound in hosts or ():
            yield f"{bound.get('HostPort') or '(any)'}:{port}"
