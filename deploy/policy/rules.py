"""The declared security policy (`policy.toml` beside this module) and its rules. Pure; no I/O.

Each rule judges a `Posture` (from the commit's compose file or a running
container) and yields one `Check` per setting it looks at, named `policy: <setting>`
with the offending value in its detail — the service, the setting and what is wrong:

| rule (`[require]`)     | setting(s)             | fails when |
| ---                    | ---                    | --- |
| not_privileged         | privileged             | privileged |
| no_host_namespaces     | pid, ipc, network_mode, uts | any is `host` |
| no_bind_mounts         | volumes                | a bind mount, an `o=bind` volume, a volume not in `volumes` |
| drop_all_capabilities  | cap_drop, cap_add      | ALL not dropped; a capability added outside `capabilities` |
| no_new_privileges      | security_opt           | the last `no-new-privileges` option is not true (or none) |
| read_only_root         | read_only              | the root filesystem is writable |
| no_devices             | devices                | any device mapped |
| non_root_user          | user                   | no user set, or uid/name in `root_users` (also `0:…`) |
| confined               | seccomp, apparmor      | a profile is `unconfined` |
| no_published_ports     | ports                  | any port published on the host |
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources

from deploy.errors import ConfigError
from deploy.policy.check import Check
from deploy.policy.posture import NAMESPACES, Mount, Posture

FILE = "policy.toml"
TRUE = ("1", "t", "true")  # what the engine's ParseBool takes for true
Finding = tuple[str, str]  # (setting, what is wrong; '' when nothing)


@dataclass(frozen=True)
class Policy:
    volumes: tuple[str, ...]
    capabilities: tuple[str, ...]
    root_users: tuple[str, ...]
    rules: tuple[str, ...]  # the `[require]` rules switched on, in RULES order

    def volume_names(self, project: str) -> set[str]:
        return {f"{project}_{key}" for key in self.volumes}


def parse(text: str, where: str = FILE) -> Policy:
    try:
        data = tomllib.loads(text)
        required = data["require"]
        policy = Policy(
            tuple(data["volumes"]),
            tuple(c.upper() for c in data["capabilities"]),
            tuple(data["root_users"]),
            tuple(name for name in RULES if required.get(name, True)),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{where} is not a valid security policy ({exc})", f"fix {where}") from exc
    unknown = sorted(set(required) - set(RULES))
    if unknown:
        raise ConfigError(f"{where} requires unknown rules {unknown}", f"use only {', '.join(RULES)}")
    return policy


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
    findings = [f for rule in policy.rules for f in RULES[rule](posture, policy, project)]
    return [Check(service, f"policy: {setting}", not problem, problem) for setting, problem in findings]


def violations(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if not check.ok]


def _privileged(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [("privileged", "privileged: true" if p.privileged else "")]


def _namespaces(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [(ns, f"{ns}: host" if p.namespaces.get(ns) == "host" else "") for ns in NAMESPACES]


def _mounts(p: Posture, policy: Policy, project: str) -> list[Finding]:
    allowed = policy.volume_names(project)
    bad = [
        _mount_line(m)
        for m in p.mounts
        if m.kind == "bind" or m.host_path or (m.kind == "volume" and m.source not in allowed)
    ]
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


def _no_new_privileges(p: Posture, _: Policy, __: str) -> list[Finding]:
    """The engine applies the last `no-new-privileges` option (a bare one means true)."""
    options = (option.partition("=") for option in p.security_opt)
    given = [value or "true" for key, _, value in options if key == "no-new-privileges"]
    on = bool(given) and given[-1].lower() in TRUE
    return [("security_opt", "" if on else f"no-new-privileges is {given[-1] if given else 'not set'}")]


def _read_only(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [("read_only", "" if p.read_only else "root filesystem writable")]


def _devices(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [("devices", ", ".join(p.devices))]


def _user(p: Posture, policy: Policy, _: str) -> list[Finding]:
    user = p.user.partition(":")[0]
    problem = "no user set (the image decides)" if not user else f"runs as {p.user}"
    return [("user", problem if not user or user in policy.root_users else "")]


def _confined(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [
        (kind, f"{kind}=unconfined" if f"{kind}=unconfined" in p.security_opt else "")
        for kind in ("seccomp", "apparmor")
    ]


def _ports(p: Posture, _: Policy, __: str) -> list[Finding]:
    return [("ports", ", ".join(f"published {port}" for port in p.ports))]


RULES: dict[str, Callable[[Posture, Policy, str], list[Finding]]] = {
    "not_privileged": _privileged,
    "no_host_namespaces": _namespaces,
    "no_bind_mounts": _mounts,
    "drop_all_capabilities": _capabilities,
    "no_new_privileges": _no_new_privileges,
    "read_only_root": _read_only,
    "no_devices": _devices,
    "non_root_user": _user,
    "confined": _confined,
    "no_published_ports": _ports,
}
