"""What runs in a service container, judged: every process accounted for, confined, importing only image code.

Pure; the facts come from two places (`deploy.verify.points`):

- the kernel, read by verify's side container (`deploy.engine.scripts.inside`): each process's executable,
  command line, parent, age, user and group ids, capabilities, seccomp and no_new_privs, the files behind
  its executable mappings, and the container's mounts. No process in the container can change them; only
  the command line is a process's own word, and it is judged only together with the rest.
- the service process's own report in its heartbeat (`trading.codedigest.imported_code`): whether it runs
  isolated, its import path and the file of every module it loaded. Only code already running in that
  process can forge it.

Rules:

- accounted for: every process is one of: the engine's init (pid 1, `/sbin/docker-init -- <entrypoint+cmd>`,
  when the container has `init`), the one service process (`entrypoint + cmd`, the init's child), a health
  check (exec'd, the container's health-check command, younger than its timeout + `GRACE`), or a side
  container of verify (uid 0, SYS_PTRACE its only capability, verify's own command, younger than
  `SIDECAR_AGE`). Service process and
  health checks run an executable of the image (`/usr/…`). A zombie runs nothing and is not judged.
- confined: every process but verify's runs as the runtime user (all uids and gids, no other group),
  with no effective capability, under a seccomp filter, with no_new_privs.
- process runs as non-root: no process but verify's has a root uid (real, effective, saved, filesystem).
- root filesystem mounted read-only: the kernel mounts the container's `/` read-only.
- import only from the image: the service process runs isolated (`python3 -I`), every path on its
  `sys.path` is one of the image's read-only code roots (`/usr/…`, `/app`), every module it loaded lies in
  them (`/usr/…`, `/app/trading/…`), every file a process maps executable lies in the image (the init's own
  binary aside), and nothing is mounted at or under `/usr` or `/app` (but the engine's init, read-only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from posixpath import normpath
from typing import Any

from deploy.config import CODE_PATH, RUNTIME_USER
from deploy.policy.check import Check

ACCOUNTED, CONFINED = "processes: accounted for", "processes: confined"
IMPORTS = "processes: import only from the image"
NON_ROOT, ROOT_READ_ONLY = "process runs as non-root", "root filesystem mounted read-only"
SYSTEM = "/usr/"  # the interpreter, its standard library and the base's packages: read-only image files
APP = CODE_PATH.rpartition("/")[0]  # /app: on sys.path through the image's tradebot.pth
NO_FILE = ("built-in", "frozen", "in memory")  # in memory: made by a loaded module, not imported
INIT = "/sbin/docker-init"  # the engine's init, bind-mounted (read-only) when the container has `init`
INITS = (INIT, "/usr/sbin/docker-init")  # where a merged /usr puts it
SYS_PTRACE = 1 << 19  # the only capability of verify's side container
GRACE = 2.0  # seconds a health check may outlive its timeout (the engine kills it then)
SIDECAR_AGE = 60.0  # a side container of verify lives seconds: an older look-alike (it could ptrace) is named
DEAD = ("Z", "X")


@dataclass(frozen=True)
class Expected:
    """What the engine says should run: from the container's inspect data and verify's own side container."""

    service: tuple[str, ...]  # entrypoint + cmd
    init: bool
    health: tuple[str, ...] | None  # the health check's argv (a `CMD` test), if any
    health_timeout: float  # seconds
    sidecar: tuple[str, ...]

    @classmethod
    def of(cls, attrs: Mapping[str, Any], sidecar: Sequence[str]) -> Expected:
        config = attrs.get("Config") or {}
        check = config.get("Healthcheck") or {}
        test = check.get("Test") or []
        health = tuple(test[1:]) if test[:1] == ["CMD"] else None
        timeout = (check.get("Timeout") or 30_000_000_000) / 1e9
        service = (*(config.get("Entrypoint") or ()), *(config.get("Cmd") or ()))
        init = bool((attrs.get("HostConfig") or {}).get("Init"))
        return cls(service, init, health, timeout, tuple(sidecar))


def age(process: Mapping[str, Any], facts: Mapping[str, Any]) -> float:
    return float(facts["uptime"]) - process["start"] / float(facts["clk_tck"])


def role(process: Mapping[str, Any], expected: Expected, facts: Mapping[str, Any]) -> str:
    """`init`, `service`, `health check` or `verify` for a process accounted for, else ''."""
    cmdline, ppid, exe = tuple(process["cmdline"]), process["ppid"], process.get("exe") or ""
    if expected.init and process["pid"] == 1 and cmdline == (INIT, "--", *expected.service) and exe in INITS:
        return "init"
    if cmdline == expected.service and ppid == (1 if expected.init else 0) and exe.startswith(SYSTEM):
        return "service"
    exec_d = ppid == 0 and process["pid"] != 1
    fresh = age(process, facts) <= expected.health_timeout + GRACE
    if exec_d and cmdline == expected.health and exe.startswith(SYSTEM) and fresh:
        return "health check"
    sidecar = cmdline == expected.sidecar and process["cap_eff"] == SYS_PTRACE and set(process["uid"]) == {0}
    if exec_d and sidecar and exe.startswith(SYSTEM) and age(process, facts) <= SIDECAR_AGE:
        return "verify"
    return ""


def live(facts: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [p for p in facts.get("processes") or () if p.get("state") not in DEAD]


def command(process: Mapping[str, Any], most: int = 60) -> str:
    text = " ".join(process["cmdline"]) or "(no command line)"
    return text if len(text) <= most else text[: most - 1] + "…"


def stranger(process: Mapping[str, Any], facts: Mapping[str, Any]) -> str:
    """`pid 41 python3 -c … (exec'd, 3s old, uid 10001, exe /usr/bin/python3.11)`."""
    origin = "exec'd" if process["ppid"] == 0 else f"child of pid {process['ppid']}"
    facts_of = f"{origin}, {age(process, facts):.0f}s old, uid {process['uid'][1]}, exe {process.get('exe')}"
    return f"pid {process['pid']} {command(process)} ({facts_of})"


def accounted_check(target: str, facts: Mapping[str, Any], expected: Expected) -> Check:
    roles = [(p, role(p, expected, facts)) for p in live(facts)]
    problems = [stranger(p, facts) for p, found in roles if not found]
    services = sum(found == "service" for _, found in roles)
    if services != 1:
        problems.insert(0, f"{services} processes run `{' '.join(expected.service)}` as the service (1 should)")
    return Check(target, ACCOUNTED, not problems, summary(problems))


def confinement(process: Mapping[str, Any]) -> list[str]:
    """What is wrong with how a process runs: its ids, capabilities, seccomp, no_new_privs."""
    found = []
    if set(process["uid"]) != {RUNTIME_USER} or set(process["gid"]) != {RUNTIME_USER}:
        found.append(f"uid {'/'.join(map(str, process['uid']))} gid {'/'.join(map(str, process['gid']))}")
    if set(process["groups"]) - {RUNTIME_USER}:
        found.append(f"groups {' '.join(map(str, process['groups']))}")
    if process["cap_eff"]:
        found.append(f"capabilities {process['cap_eff']:#x}")
    if process["seccomp"] != 2:
        found.append("no seccomp filter")
    if process["no_new_privs"] != 1:
        found.append("no_new_privs off")
    return found


def confined_check(target: str, facts: Mapping[str, Any], expected: Expected) -> Check:
    judged = [p for p in live(facts) if role(p, expected, facts) != "verify"]
    problems = [f"pid {p['pid']} {command(p)}: {', '.join(wrong)}" for p in judged if (wrong := confinement(p))]
    return Check(target, CONFINED, not problems, summary(problems))


def as_root(facts: Mapping[str, Any], expected: Expected) -> list[Mapping[str, Any]]:
    """The processes but verify's with a root uid (real, effective, saved or filesystem), as the kernel says."""
    return [p for p in live(facts) if 0 in p["uid"] and role(p, expected, facts) != "verify"]


def non_root_check(target: str, facts: Mapping[str, Any], expected: Expected) -> Check:
    root = [f"root runs pid {p['pid']} {command(p)}" for p in as_root(facts, expected)]
    if not live(facts):
        root = ["no process runs"]
    return Check(target, NON_ROOT, not root, summary(root))


def runs_as_root(facts: Mapping[str, Any], expected: Expected) -> bool:
    """Whether the service's own processes (its init, the service process) run as root: then root is its user."""
    return any(role(p, expected, facts) in ("init", "service") for p in as_root(facts, expected))


def root_read_only_check(target: str, facts: Mapping[str, Any]) -> Check:
    root = [m for m in facts.get("mounts") or () if m["at"] == "/"]
    options = root[-1]["options"].split(",") if root else []  # the last mount at / is the one seen
    ok = "ro" in options
    return Check(target, ROOT_READ_ONLY, ok, "" if ok else f"/ mounted {','.join(options) or 'nowhere'}")


def on_image_path(entry: str) -> bool:
    """Whether a `sys.path` entry is one of the image's read-only code roots (`..` resolved first)."""
    path = normpath(entry) if entry.startswith("/") else entry
    return path == APP or path.startswith(SYSTEM)


def image_file(path: str) -> bool:
    """Whether a module's (or a mapping's) file lies in the image's read-only code (`..` resolved first)."""
    return path.startswith("/") and normpath(path).startswith((SYSTEM, CODE_PATH + "/"))


def module_problems(modules: Mapping[str, Any]) -> list[str]:
    """`json from /var/lib/tradebot/json/__init__.py` for every module loaded from outside the image."""
    found = []
    for name, where in sorted(modules.items()):
        places = [str(p) for p in where] if isinstance(where, list) else [str(where)]
        found += [f"{name} from {p}" for p in places if p not in NO_FILE and not image_file(p)]
    return found


def import_problems(code: Mapping[str, Any]) -> list[str]:
    """What the process's own report (`code` of its heartbeat) says it may import, or did, from outside the image."""
    if "isolated" not in code:
        return ["its heartbeat reports no import path (a release from before isolated imports)"]
    problems = [] if code["isolated"] else ["not isolated (python3 without -I)"]
    problems += [f"{entry} on sys.path" for entry in code.get("sys_path") or () if not on_image_path(str(entry))]
    return problems + module_problems(code.get("modules") or {})


def kernel_problems(facts: Mapping[str, Any], expected: Expected) -> list[str]:
    """Executable files mapped from outside the image, and mounts over the image's code roots."""
    found = []
    for process in live(facts):
        kind = role(process, expected, facts)
        own = INITS if kind == "init" else ()
        foreign = [f for f in process["executable"] if f not in own and not image_file(f)]
        found += [f"pid {process['pid']} maps {f}" for f in foreign if kind != "verify"]
    init = INITS if expected.init else ()
    mounts = [m["at"] for m in facts.get("mounts") or () if m["at"] not in init]
    return found + [f"{at} is a mount point" for at in mounts if on_or_under(at, (SYSTEM.rstrip("/"), APP))]


def on_or_under(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def own_report(beat: Mapping[str, Any] | None, hostname: str) -> tuple[Mapping[str, Any], str]:
    """The `code` report of a heartbeat this container's own process wrote, or why there is none."""
    if not isinstance(beat, Mapping):
        return {}, "no readable heartbeat"
    if beat.get("hostname") != hostname:
        return {}, f"the heartbeat is from host {beat.get('hostname')!r}, not this container ({hostname})"
    if not beat.get("code"):
        return {}, f"its heartbeat reports no code yet (stage {beat.get('stage')})"
    return beat["code"], ""


def import_check(
    target: str, beat: Mapping[str, Any] | None, hostname: str, facts: Mapping[str, Any], expected: Expected
) -> Check:
    """Only image code: the service process's report in its own heartbeat, and the kernel's mappings and mounts."""
    code, missing = own_report(beat, hostname)
    problems = [missing] if missing else import_problems(code)
    problems += kernel_problems(facts, expected)
    return Check(target, IMPORTS, not problems, summary(problems))


def checks(
    target: str, attrs: Mapping[str, Any], facts: Mapping[str, Any], beat: Mapping[str, Any] | None
) -> list[Check]:
    """Every check of this module on one container (`facts`: from its side container, `beat`: its heartbeat)."""
    expected = Expected.of(attrs, facts.get("sidecar") or ())
    hostname = str((attrs.get("Config") or {}).get("Hostname"))
    return [
        non_root_check(target, facts, expected),
        root_read_only_check(target, facts),
        accounted_check(target, facts, expected),
        confined_check(target, facts, expected),
        import_check(target, beat, hostname, facts, expected),
    ]


NAMES = (NON_ROOT, ROOT_READ_ONLY, ACCOUNTED, CONFINED, IMPORTS)


def summary(problems: Sequence[str], most: int = 5) -> str:
    more = f" and {len(problems) - most} more" if len(problems) > most else ""
    return "; ".join(problems[:most]) + more
