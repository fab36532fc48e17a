"""A service's security-relevant settings, read from either side of a deploy. Pure; no I/O.

`Posture` is what the policy judges (`deploy.policy.rules`). It is read from the
commit's compose file (`docker compose config --format json`, before a deploy) and
from a running container's inspect data (verify), so one set of rules judges both.

Normalised: capabilities without a `CAP_` prefix, upper case; a volume mount by its engine name
(the compose key resolved through the file's top-level `volumes`); a namespace as the compose key
would set it (the engine's defaults, `private` IPC and the project's network by name, are unset).
Security options stay as given: the rules parse them as the engine does (`deploy.policy.rules`).
What the engine applies without a trace in `SecurityOpt` is put back as the option that did it:
empty `MaskedPaths` is `systempaths=unconfined`, an `unconfined` AppArmor profile `apparmor=unconfined`.

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
    tmpfs: tuple[tuple[str, str], ...] = ()  # (target, options) of each tmpfs mount


def capabilities(names: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(name.upper().removeprefix("CAP_") for name in names or ())


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
        mounts=tuple(_compose_mount(m, volumes) for m in service.get("volumes") or () if m.get("type") != "tmpfs"),
        cap_add=capabilities(service.get("cap_add")),
        cap_drop=capabilities(service.get("cap_drop")),
        security_opt=tuple(str(option) for option in service.get("security_opt") or ()),
        read_only=bool(service.get("read_only")),
        devices=tuple(d["source"] if isinstance(d, Mapping) else str(d) for d in service.get("devices") or ()),
        user=str(service.get("user") or ""),
        ports=tuple(f"{p.get('published') or '(any)'}:{p.get('target')}" for p in service.get("ports") or ()),
        tmpfs=(
            *(_split_tmpfs(str(entry)) for entry in _listed(service.get("tmpfs"))),
            *((str(m.get("target")), "") for m in service.get("volumes") or () if m.get("type") == "tmpfs"),
        ),
    )


def _listed(value: object) -> list[object]:
    """A compose setting that takes one string or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _split_tmpfs(entry: str) -> tuple[str, str]:
    target, _, opts = entry.partition(":")
    return target, opts


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
    return Posture(
        privileged=bool(host.get("Privileged")),
        namespaces={name: _namespace(name, str(host.get(key) or "")) for name, key in INSPECT_NAMESPACES.items()},
        mounts=tuple(_inspect_mount(m, volumes or {}) for m in attrs.get("Mounts") or () if m.get("Type") != "tmpfs"),
        cap_add=capabilities(host.get("CapAdd")),
        cap_drop=capabilities(host.get("CapDrop")),
        security_opt=_security_options(attrs),
        read_only=bool(host.get("ReadonlyRootfs")),
        devices=tuple(str(d.get("PathOnHost")) for d in host.get("Devices") or ()),
        user=str((attrs.get("Config") or {}).get("User") or ""),
        ports=tuple(_published(host.get("PortBindings") or {})),
        tmpfs=(
            *((target, str(opts)) for target, opts in (host.get("Tmpfs") or {}).items()),
            *((str(m.get("Destination")), "") for m in attrs.get("Mounts") or () if m.get("Type") == "tmpfs"),
        ),
    )


def _namespace(name: str, mode: str) -> str:
    """The engine's mode as the compose key would set it: its defaults are '' (unset)."""
    if name == "ipc" and mode == "private":
        return ""
    if name == "network_mode" and mode not in ("host", "none") and not mode.startswith("container:"):
        return ""  # a network's name: `networks:` decides (the project's default network)
    return mode


def _security_options(attrs: Mapping[str, Any]) -> tuple[str, ...]:
    """`SecurityOpt`, and the options the engine applied without a trace there, as the option that sets them.

    A privileged container gets `label=disable` and no masked paths from the engine: `privileged` names it.
    """
    host = attrs.get("HostConfig") or {}
    privileged = bool(host.get("Privileged"))
    found = [str(o) for o in host.get("SecurityOpt") or () if not (privileged and o == "label=disable")]
    if attrs.get("AppArmorProfile") == "unconfined":
        found.append("apparmor=unconfined")
    if host.get("MaskedPaths") == [] and not privileged:
        found.append("systempaths=unconfined")
    return tuple(found)


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
