"""A service's security-relevant settings, read from either side of a deploy. Pure; no I/O.

`Posture` is what the policy judges (`deploy.policy.rules`). It is read from the
commit's compose file (`docker compose config --format json`, before a deploy) and
from a running container's inspect data (verify), so one set of rules judges both.

Normalised: capabilities without a `CAP_` prefix, upper case; security options with
`=` (Docker accepts `seccomp:unconfined` and `seccomp=unconfined`); a volume mount by
its engine name (the compose key resolved through the file's top-level `volumes`).

A named volume of the `local` driver with the options `o: bind` (or `rbind`) and `device: /path` is a
host directory under a volume's name: its mount carries that path (`Mount.host_path`),
from the compose file's `driver_opts` or the engine's volume inspect data alike.
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
    host_path: str = ""  # a volume that binds a host directory (local driver, `o=bind`): that directory


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


def bound_path(driver: str | None, driver_opts: Mapping[str, Any] | None) -> str:
    """The host directory a volume of `driver` with `driver_opts` binds; '' when it is no bind."""
    opts = driver_opts or {}
    binds = {"bind", "rbind"} & set(str(opts.get("o") or "").replace(" ", "").split(","))
    return str(opts.get("device") or "") if (driver or "local") == "local" and binds else ""


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
    source, host_path = str(mount.get("source") or ""), ""
    if mount.get("type") == "volume":
        declared = volumes.get(source) or {}
        source = str(declared.get("name") or source)
        host_path = bound_path(declared.get("driver"), declared.get("driver_opts"))
    return Mount(str(mount.get("type")), source, str(mount.get("target")), host_path)


def from_inspect(attrs: Mapping[str, Any], volumes: Mapping[str, Mapping[str, Any]] | None = None) -> Posture:
    """A container's inspect data (`container.attrs`); `volumes`: the inspect data of its volumes, by name."""
    host = attrs.get("HostConfig") or {}
    apparmor = ("apparmor=unconfined",) if attrs.get("AppArmorProfile") == "unconfined" else ()
    return Posture(
        privileged=bool(host.get("Privileged")),
        namespaces={name: str(host.get(key) or "") for name, key in INSPECT_NAMESPACES.items()},
        mounts=tuple(_inspect_mount(m, volumes or {}) for m in attrs.get("Mounts") or ()),
        cap_add=capabilities(host.get("CapAdd")),
        cap_drop=capabilities(host.get("CapDrop")),
        security_opt=options(host.get("SecurityOpt")) + apparmor,
        read_only=bool(host.get("ReadonlyRootfs")),
        devices=tuple(str(d.get("PathOnHost")) for d in host.get("Devices") or ()),
        user=str((attrs.get("Config") or {}).get("User") or ""),
        ports=tuple(_published(host.get("PortBindings") or {})),
    )


def _inspect_mount(mount: Mapping[str, Any], volumes: Mapping[str, Mapping[str, Any]]) -> Mount:
    if mount.get("Type") != "volume":
        return Mount(str(mount.get("Type")), str(mount.get("Source") or ""), str(mount.get("Destination")))
    name = str(mount.get("Name") or "")
    volume = volumes.get(name) or {}
    return Mount("volume", name, str(mount.get("Destination")), bound_path(volume.get("Driver"), volume.get("Options")))


def _published(bindings: Mapping[str, Any]) -> Iterable[str]:
    for port, hosts in bindings.items():
        for bound in hosts or ():
            yield f"{bound.get('HostPort') or '(any)'}:{port}"
