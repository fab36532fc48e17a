"""What runs in a service container, judged. Pure.

The facts: the service process's own report in its heartbeat (`trading.codedigest.imported_code`):
whether it runs isolated, its import path and the file of every module it loaded. Only code already
running in that process can forge it.

Rules (`processes: …`):

- import only from the image: the service process runs isolated (`python3 -I`), every path on its
  `sys.path` is one of the image's read-only code roots (`/usr/…`, `/app`), and every module it loaded
  lies in them (`/usr/…`, `/app/trading/…`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deploy.config import CODE_PATH
from deploy.policy.check import Check

IMPORTS = "processes: import only from the image"
SYSTEM = "/usr/"  # the interpreter, its standard library and the base's packages: read-only image files
APP = CODE_PATH.rpartition("/")[0]  # /app: on sys.path through the image's tradebot.pth
NO_FILE = ("built-in", "frozen", "in memory")  # in memory: made by a loaded module, not imported


def on_image_path(entry: str) -> bool:
    """Whether a `sys.path` entry is one of the image's read-only code roots."""
    return entry == APP or entry.startswith(SYSTEM)


def image_file(path: str) -> bool:
    """Whether a module's file lies in the image's read-only code."""
    return path.startswith((SYSTEM, CODE_PATH + "/"))


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


def own_report(beat: Mapping[str, Any] | None, hostname: str) -> tuple[Mapping[str, Any], str]:
    """The `code` report of a heartbeat this container's own process wrote, or why there is none."""
    if not isinstance(beat, Mapping):
        return {}, "no readable heartbeat"
    if beat.get("hostname") != hostname:
        return {}, f"the heartbeat is from host {beat.get('hostname')!r}, not this container ({hostname})"
    return beat.get("code") or {}, ""


def import_check(target: str, beat: Mapping[str, Any] | None, hostname: str) -> Check:
    """The service process imports only image code: its heartbeat's report, from its own container."""
    code, missing = own_report(beat, hostname)
    problems = [missing] if missing else import_problems(code)
    return Check(target, IMPORTS, not problems, summary(problems))


def summary(problems: Sequence[str], most: int = 5) -> str:
    more = f" and {len(problems) - most} more" if len(problems) > most else ""
    return "; ".join(problems[:most]) + more
