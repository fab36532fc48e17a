"""The declared security policy (`policy.toml` beside this module) and its rules on host access. Pure; no I/O.

Each rule judges a `Posture` (from the commit's compose file or a running
container) and yields one `Check` per setting it looks at, named `policy: <setting>`
with the offending value in its detail — the service, the setting and what is wrong.
Every rule is an allow-list: what it does not name is refused.

Rules (`[require]`), the settings they check, and when each fails:

- not_privileged: `privileged` when set.
- own_namespaces: `pid`, `ipc`, `network_mode`, `uts` set at all (but `ipc: private`, the default):
  host, container:…, service:…, shareable.
- no_bind_mounts: `volumes` when anything but a volume of `volumes` is mounted (a bind, an `o=bind` volume).
- drop_all_capabilities: `cap_drop` without ALL; `cap_add` of one outside `capabilities`.
- default_security: `security_opt` with an option but `no-new-privileges`, or that one not true at the
  last; `seccomp`, `apparmor`, `label`, `systempaths` on any option of their kind, whatever its value or
  spelling (`seccomp=x`, `seccomp:x`, a file, inline JSON): the engine's default profiles apply.
- read_only_root: `read_only` when the root is writable; `tmpfs` outside `tmpfs`, or with an option
  outside `tmpfs_options` (`exec`).
- no_devices: `devices` mapped.
- declared_user: `user` not one of `users` as the engine parses it (`+0`, `00`, `000:10001` are root),
  or a name.
- no_published_ports: `ports` published on the host.

`declared_services` switches on the rules of what runs (`deploy.policy.shape`, `deploy.policy.project`).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from deploy.errors import ConfigError
from deploy.policy.check import Check
from deploy.policy.posture import NAMESPACES, Mount, Posture

FILE = "policy.toml"
TRUE = ("1", "t", "true")  # what the engine's ParseBool takes for true
PRIVATE = {"ipc": ("private",)}  # a namespace's value that is its default
USER = re.compile(r"([+-]?[0-9]+)(?::([+-]?[0-9]+))?", re.ASCII)  # the engine's numeric user[:group]
Finding = tuple[str, str]  # (setting, what is wrong; '' when nothing)


SECURITY_KINDS = ("seccomp", "apparmor", "label", "systempaths")  # each option of these kinds fails its own check
DECLARED_SERVICES = "declared_services"  # the switch of `deploy.policy.shape` and `deploy.policy.project`


@dataclass(frozen=True)
class Service:
    """A service the policy declares: the command and health check it must have."""

    command: tuple[str, ...]
    healthcheck: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    volumes: tuple[str, ...]
    capabilities: tuple[str, ...]
    users: tuple[str, ...]
    rules: tuple[str, ...]  # the `[require]` rules switched on, in RULES order (and DECLARED_SERVICES last)
    environment: tuple[str, ...] = ()
    tmpfs: tuple[str, ...] = ()
    tmpfs_options: tuple[str, ...] = ()
    image: str = "live"
    settings: tuple[str, ...] = ()
    services: Mapping[str, Service] = field(default_factory=dict)

    def volume_names(self, project: str) -> set[str]:
        return {f"{project}_{key}" for key in self.volumes}

    def image_ref(self, project: str) -> str:
        return f"{project}:{self.image}"

    @property
    def judges_services(self) -> bool:
        return DECLARED_SERVICES in self.rules


def parse(text: str, where: str = FILE) -> Policy:
    try:
        data = tomllib.loads(text)
        required = data["require"]
        policy = Policy(
            tuple(data["volumes"]),
            tuple(c.upper() for c in data["capabilities"]),
            tuple(data["users"]),
            tuple(name for name in (*RULES, DECLARED_SERVICES) if required.get(name, True)),
            tuple(data.get("environment", ())),
            tuple(data.get("tmpfs", ())),
            tuple(data.get("tmpfs_options", ())),
            str(data.get("image", "live")),
            tuple(data.get("settings", ())),
            {name: _service(declared) for name, declared in (data.get("services") or {}).items()},
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{where} is not a valid security policy ({exc})", f"fix {where}") from exc
    unknown = sorted(set(required) - {*RULES, DECLARED_SERVICES})
    if unknown:
        raise ConfigError(f"{where} requires unknown rules {unknown}", f"use only {', '.join(RULES)}")
    return policy


def _service(declared: Mapping[str, Any]) -> Service:
    return Service(tuple(declared["command"]), tuple(declared["healthcheck"]))


def load() -> Policy:
    """The pipeline's policy (package data, so a commit being deployed cannot change it)."""
    return parse(_text(), f"deploy/policy/{FILE}")


def digest() -> str:
    """sha256 of the policy's text: the ledger records it with each release, so a relaxed policy shows."""
    return hashlib.sha256(_text().encode()).hexdigest()


def _text() -> str:
    return resources.files(__package__).joinpath(FILE).read_text()


def judge(service: str, posture: Posture, policy: Policy, project: str) -> list[Check]:
    """One check per setting each rule of `policy` looks at."""
    findings = [f for rule in policy.rules if rule in RULES for f in RULES[rule](posture, policy, project)]
    return [Check(service, f"policy: {setting}", not problem, problem) for setting, problem in findings]


def violations(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if not check.ok]


def _privileged(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [("privileged", "privileged: true" if p.privileged else "")]


def _namespaces(p: Posture, _: Policy, __: str) -> list[Finding]:
    found = {ns: p.namespaces.get(ns, "") for ns in NAMESPACES}
    return [(ns, f"{ns}: {mode}" if mode not in ("", *PRIVATE.get(ns, ())) else "") for ns, mode in found.items()]


def _mounts(p: Posture, policy: Policy, project: str) -> list[Finding]:
    allowed = policy.volume_names(project)
    bad = [_mount_line(m) for m in p.mounts if m.kind != "volume" or m.host_path or m.source not in allowed]
    return [("volumes", "; ".join(bad))]


def _mount_line(m: Mount) -> str:
    binds = f" binding the host's {m.host_path}" if m.host_path else ""
    return f"{m.kind} {m.source or '(anonymous)'}{binds} at {m.target}"


def _capabilities(p: Posture, policy: Policy, _: str) -> list[Finding]:
    added = [cap for cap in p.cap_add if cap not in policy.capabilities]
    return [
        ("cap_drop", "" if "ALL" in p.cap_drop else f"drops {', '.join(p.cap_drop) or 'nothing'}, not ALL"),
        ("cap_add", f"adds {', '.join(added)}" if added else ""),
    ]


def security_option(option: str) -> tuple[str, str]:
    """`(key, value)` as the engine reads a security option: split at the first `=`, else the first `:`.

    A bare `no-new-privileges` is true; a bare `disable` is `label=disable`; anything else bare has no value.
    """
    if option == "no-new-privileges":
        return "no-new-privileges", "true"
    if option == "disable":
        return "label", "disable"
    key, _, value = option.partition("=" if "=" in option else ":")
    return key, value


def _security(p: Posture, _: Policy, __: str) -> list[Finding]:
    """Only `no-new-privileges`, true at the last: the engine applies the last one."""
    parsed = [(option, *security_option(option)) for option in p.security_opt]
    given = [value for _, key, value in parsed if key == "no-new-privileges"]
    on = bool(given) and given[-1].lower() in TRUE
    unknown = [o for o, key, _ in parsed if key not in ("no-new-privileges", *SECURITY_KINDS)]
    problems = ([] if on else [f"no-new-privileges is {given[-1] if given else 'not set'}"]) + unknown
    kinds = [(kind, ", ".join(_short(o) for o, key, _ in parsed if key == kind)) for kind in SECURITY_KINDS]
    return [("security_opt", "; ".join(problems)), *kinds]


def _short(option: str) -> str:
    """An option as named in a detail; an inline profile (Compose inlines a seccomp file's JSON) cut short."""
    return option if len(option) <= 60 else option[:57] + "…"


def _read_only(p: Posture, policy: Policy, __: str) -> list[Finding]:
    bad = [
        f"{target}:{opts}" if opts else target
        for target, opts in p.tmpfs
        if target not in policy.tmpfs or any(o.partition("=")[0] not in policy.tmpfs_options for o in _options(opts))
    ]
    return [("read_only", "" if p.read_only else "root filesystem writable"), ("tmpfs", ", ".join(bad))]


def _options(opts: str) -> list[str]:
    return [o.strip() for o in opts.split(",") if o.strip()]


def _devices(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [("devices", ", ".join(p.devices))]


def user_ids(user: str) -> tuple[int, int | None] | None:
    """`(uid, gid)` as the engine parses a numeric `user` (Go's Atoi: a sign, leading zeros); None: a name."""
    match = USER.fullmatch(user)
    if match is None:
        return None
    uid, gid = match.group(1), match.group(2)
    return int(uid), (int(gid) if gid is not None else None)


def _user(p: Posture, policy: Policy, _: str) -> list[Finding]:
    allowed = {user_ids(user) for user in policy.users}
    if not p.user:
        return [("user", "no user set (the image decides)")]
    ids = user_ids(p.user)
    if ids is None:
        return [("user", f"runs as {p.user}, a name (the image's passwd decides)")]
    return [("user", "" if ids in allowed else f"runs as {p.user} ({ids[0]}:{'?' if ids[1] is None else ids[1]})")]


def _ports(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [("ports", ", ".join(f"published {port}" for port in p.ports))]


RULES: dict[str, Callable[[Posture, Policy, str], list[Finding]]] = {
    "not_privileged": _privileged,
    "own_namespaces": _namespaces,
    "no_bind_mounts": _mounts,
    "drop_all_capabilities": _capabilities,
    "default_security": _security,
    "read_only_root": _read_only,
    "no_devices": _devices,
    "declared_user": _user,
    "no_published_ports": _ports,
}
