"""What a service runs, read from either side of a deploy and judged against the declared services. Pure; no I/O.

`Shape` is the part of a service the host-access rules (`deploy.policy.rules`) do not look at: the image,
entrypoint, command, working directory, health check, environment, init, labels, networks, and every
other setting it uses. From the commit's compose file (preflight) it is what the file says; from a running
container (verify) it is what differs from its image (an entrypoint, working directory, environment entry
or label the image does not have), so the same rules judge both:

- `policy: image`: not `<project>:<policy.image>` (the compose file), not the live image (verify).
- `policy: entrypoint`: an entrypoint of its own; the image's `python3 -I -m trading` is the only one.
- `policy: command`, `policy: healthcheck`: not the declared service's (a health check disabled too).
- `policy: working_dir`: a working directory of its own.
- `policy: environment`: a variable named without a prefix of `environment` (PYTHONPATH, LD_PRELOAD, HOME …).
- `policy: init`: not `init: true` (an init reaps and forwards signals; verify's accounting expects it).
- `policy: labels`: a label `io.tradebot.*` or `com.docker.compose.*`: the pipeline's own (a helper's
  label gets a container swept) and Compose's (they decide what Compose believes it made).
- `policy: networks`: a network but the project's `default` (the compose file; verify: `drift: networks`).
- `policy: <setting>`: any other setting outside the policy's `settings` (sysctls, runtime, hostname,
  post_start, provider, build, scale, deploy, secrets, configs, volumes_from, env_file, group_add,
  userns_mode, cgroup …), named by its compose key.

A setting in the last row fails by its own name and shows up only when it is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deploy.policy.check import Check
from deploy.policy.rules import Policy

OWN_LABELS = ("io.tradebot.", "com.docker.compose.")
# The compose keys the host-access rules and the shape rules judge by value: never refused by name.
JUDGED = frozenset(
    {
        "privileged",
        "pid",
        "ipc",
        "network_mode",
        "uts",
        "volumes",
        "cap_add",
        "cap_drop",
        "security_opt",
        "read_only",
        "tmpfs",
        "devices",
        "user",
        "ports",
        "image",
        "entrypoint",
        "command",
        "working_dir",
        "healthcheck",
        "environment",
        "init",
        "labels",
        "networks",
    }
)
# Settings the engine keeps of a container, by the compose key that sets them: set when not the default.
INSPECT_SETTINGS = {
    "userns_mode": ("HostConfig", "UsernsMode"),
    "cgroup_parent": ("HostConfig", "CgroupParent"),
    "group_add": ("HostConfig", "GroupAdd"),
    "volumes_from": ("HostConfig", "VolumesFrom"),
    "sysctls": ("HostConfig", "Sysctls"),
    "device_cgroup_rules": ("HostConfig", "DeviceCgroupRules"),
    "extra_hosts": ("HostConfig", "ExtraHosts"),
    "dns": ("HostConfig", "Dns"),
    "links": ("HostConfig", "Links"),
    "oom_kill_disable": ("HostConfig", "OomKillDisable"),
    "oom_score_adj": ("HostConfig", "OomScoreAdj"),
    "storage_opt": ("HostConfig", "StorageOpt"),
    "domainname": ("Config", "Domainname"),
}


@dataclass(frozen=True)
class Shape:
    image: str
    entrypoint: tuple[str, ...] | None  # None: the image's
    command: tuple[str, ...] | None  # None: the image's
    working_dir: str  # '': the image's
    healthcheck: tuple[str, ...] | None  # the test; None: the image's; ("NONE",): disabled
    environment: tuple[str, ...]  # the names of the variables it sets
    init: bool
    labels: tuple[str, ...]  # the keys of the labels it sets
    networks: tuple[str, ...] | None  # None: not judged on this side
    settings: tuple[str, ...]  # every other setting it uses (compose keys)


def from_compose(service: Mapping[str, Any], structure: Mapping[str, Any] | None = None) -> Shape:
    """One service of `config --format json`; `structure`: the same without interpolation (it keeps `env_file`)."""
    health = service.get("healthcheck") or {}
    used = {key for key, value in {**(structure or {}), **service}.items() if _set(value)}
    return Shape(
        image=str(service.get("image") or ""),
        entrypoint=_argv(service.get("entrypoint")),
        command=_argv(service.get("command")),
        working_dir=str(service.get("working_dir") or ""),
        healthcheck=("NONE",) if health.get("disable") else _argv(health.get("test")),
        environment=tuple(sorted(service.get("environment") or {})),
        init=service.get("init") is True,
        labels=tuple(sorted(service.get("labels") or {})),
        networks=tuple(sorted(service.get("networks") or {})),
        settings=tuple(sorted(key for key in used - JUDGED if not key.startswith("x-"))),
    )


def from_inspect(attrs: Mapping[str, Any], image: Mapping[str, Any], cgroupns_default: str = "") -> Shape:
    """A container's inspect data, against its image's (`image.attrs`) and the engine's cgroup namespace default."""
    config, base = attrs.get("Config") or {}, image.get("Config") or {}
    entrypoint = _argv(config.get("Entrypoint"))
    added_env = set(config.get("Env") or ()) - set(base.get("Env") or ())
    return Shape(
        image=str(attrs.get("Image") or ""),
        entrypoint=None if entrypoint == _argv(base.get("Entrypoint")) else entrypoint,
        command=_argv(config.get("Cmd")),
        working_dir="" if config.get("WorkingDir") == base.get("WorkingDir") else str(config.get("WorkingDir")),
        healthcheck=_argv((config.get("Healthcheck") or {}).get("Test")),
        environment=tuple(sorted({entry.partition("=")[0] for entry in added_env})),
        init=(attrs.get("HostConfig") or {}).get("Init") is True,
        labels=_added_labels(config.get("Labels") or {}, base.get("Labels") or {}),
        networks=None,
        settings=tuple(sorted(_inspect_settings(attrs, cgroupns_default))),
    )


def _added_labels(labels: Mapping[str, str], image_labels: Mapping[str, str]) -> tuple[str, ...]:
    """The keys of labels the container has beyond its image's; Compose's own it always sets are not counted."""
    added = (key for key, value in labels.items() if image_labels.get(key) != value)
    return tuple(sorted(key for key in added if not key.startswith("com.docker.compose.")))


def _inspect_settings(attrs: Mapping[str, Any], cgroupns_default: str) -> set[str]:
    found = {key for key, (part, name) in INSPECT_SETTINGS.items() if _set((attrs.get(part) or {}).get(name))}
    host = attrs.get("HostConfig") or {}
    if host.get("CgroupnsMode") not in ("", "private", cgroupns_default):
        found.add("cgroup")
    if host.get("Runtime") not in (None, "", "runc"):
        found.add("runtime")
    shared = "host" in (host.get("NetworkMode"), host.get("UTSMode"))  # the host's name: the namespace check names it
    if not shared and (attrs.get("Config") or {}).get("Hostname") != str(attrs.get("Id", ""))[:12]:
        found.add("hostname")
    return found


def _set(value: object) -> bool:
    return value not in (None, "", False, 0) and value != [] and value != {}


def _argv(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(str(part) for part in value) if isinstance(value, (list, tuple)) else (str(value),)


def judge(service: str, shape: Shape, policy: Policy, image: str) -> list[Check]:
    """One check per setting above; `image`: what it must run (`<project>:live`, or the live image's id)."""
    declared = policy.services.get(service)
    findings = [
        ("image", "" if shape.image == image else f"runs {shape.image or 'no image'}, not {image}"),
        ("entrypoint", f"entrypoint {list(shape.entrypoint)} replaces the image's" if shape.entrypoint else ""),
        ("command", _declared("command", shape.command, declared.command if declared else None)),
        ("working_dir", f"working_dir {shape.working_dir}" if shape.working_dir else ""),
        ("healthcheck", _healthcheck(shape.healthcheck, declared.healthcheck if declared else None)),
        ("environment", _environment(shape.environment, policy.environment)),
        ("init", "" if shape.init else "init is not true"),
        ("labels", ", ".join(k for k in shape.labels if k.startswith(OWN_LABELS))),
        *_networks(shape.networks),
    ]
    checks = [Check(service, f"policy: {name}", not problem, problem) for name, problem in findings]
    others = [key for key in shape.settings if key not in policy.settings]
    return checks + [Check(service, f"policy: {key}", False, f"{key} is not allowed") for key in others]


def _declared(what: str, found: Sequence[str] | None, declared: Sequence[str] | None) -> str:
    if declared is None:
        return "not a declared service"
    if found is not None and tuple(found) == tuple(declared):
        return ""
    return f"{what} {_shown(found)}, declared {list(declared)}"


def _healthcheck(found: Sequence[str] | None, declared: Sequence[str] | None) -> str:
    if found is not None and tuple(found[:1]) == ("NONE",):
        return "disabled"
    return _declared("healthcheck", found, declared)


def _shown(argv: Sequence[str] | None) -> str:
    return "the image's" if argv is None else str(list(argv))


def _environment(names: Sequence[str], prefixes: Sequence[str]) -> str:
    return ", ".join(name for name in names if not name.startswith(tuple(prefixes)))


def _networks(networks: Sequence[str] | None) -> list[tuple[str, str]]:
    if networks is None:
        return []
    others = [name for name in networks if name != "default"]
    return [("networks", ", ".join(others))]
