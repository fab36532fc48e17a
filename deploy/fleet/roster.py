"""The fleet file (`fleet.toml`): the named members, each one deployment (an engine and a project), in order.

    [fleet]                        # optional: how long a member has to answer
    status_timeout = 20            # seconds, `invoke fleet-status`
    verify_timeout = 180           # seconds, `invoke fleet-verify`

    [settings]                     # optional: every member's runtime settings, unless it sets its own
    TRADEBOT_TICK_SECONDS = "1.0"

    [members.paper-1]              # released first: the file's order is the release order
    engine = "ssh://deploy@bot-host-1"
    project = "tradebot"
    build = true                   # false: this engine never builds; the image another member built is loaded
    status_timeout = 40            # optional, this member's own
    [members.paper-1.settings]
    TRADEBOT_SYMBOLS = "BTCUSDT,ETHUSDT"

Rules (each broken one is a `FleetFileInvalid` naming the member, the key and what to write):
- an engine is `unix:///absolute/path` or `ssh://[user@]host[:port]` (the addresses `DOCKER_HOST` takes
  that need no TLS material in the file);
- a project is a valid `TRADEBOT_PROJECT`, and names one state fleet-wide: no two members share one (a
  state's writer is found, and moved, by its name);
- settings are declared `TRADEBOT_*` settings (`deploy.config.SETTINGS`) the pipeline or the services
  read, never the ones the fleet sets itself (project, repository, home, fleet file) and never a
  secret (a secret setting, or a name with KEY, SECRET, TOKEN, PASSWORD …): each member's secrets
  stay on its host;
- no key the file does not know (a typo would silently do nothing).
Pure: `parse` takes the text; `load` reads the file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from deploy import config
from deploy.config import PROJECT_MAX, PROJECT_RE, Reader
from deploy.errors import FleetFileInvalid, UnknownSetting

STATUS_TIMEOUT = 20.0
VERIFY_TIMEOUT = 180.0
SETTING_RE = re.compile(r"TRADEBOT_[A-Z0-9_]+")
MEMBERS_READ = (Reader.PIPELINE, Reader.SERVICES)  # who reads a setting a member may set
SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "PRIVATE", "AUTH")
FLEET_SETS = ("TRADEBOT_PROJECT", "TRADEBOT_REPO", "TRADEBOT_HOME", "TRADEBOT_FLEET")
FILE_KEYS = frozenset({"fleet", "settings", "members"})
FLEET_KEYS = frozenset({"status_timeout", "verify_timeout"})
MEMBER_KEYS = frozenset({"engine", "project", "build", "settings", *FLEET_KEYS})
EXAMPLE = 'engine = "ssh://deploy@bot-host"'
ADDRESS_HINT = "an engine is unix:///absolute/path/docker.sock or ssh://user@host[:port] (no password: ssh keys)"
ADDRESS_HINT = "an engine is unix:///absolute/path/docker.sock or ssh://user@host[:port] (no password: ssh keys)"


@dataclass(frozen=True)
class Member:
    name: str
    engine: str  # its DOCKER_HOST
    project: str  # its TRADEBOT_PROJECT
    build: bool = True  # False: the release image is loaded from another member's engine
    settings: Mapping[str, str] = field(default_factory=dict)  # TRADEBOT_* runtime settings, the fleet's included
    status_timeout: float = STATUS_TIMEOUT
    verify_timeout: float = VERIFY_TIMEOUT


@dataclass(frozen=True)
class Fleet:
    path: Path
    members: tuple[Member, ...]

    def member(self, name: str) -> Member:
        for member in self.members:
            if member.name == name:
                return member
        names = ", ".join(m.name for m in self.members)
        raise FleetFileInvalid(f"{self.path} has no member {name!r}", f"name one of: {names}", member=name)


def load(path: Path) -> Fleet:
    """The fleet in `path`; FleetFileInvalid when it is missing or breaks a rule."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FleetFileInvalid(
            f"no fleet file at {path}",
            f"write one (members, each `[members.NAME]` with {EXAMPLE} and `project = ...`), "
            "or point TRADEBOT_FLEET at it",
            path=str(path),
        ) from None
    return parse(text, path)


def parse(text: str, path: Path) -> Fleet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise invalid(path, f"is not valid TOML ({exc})", "fix the line named") from None
    _known(data, FILE_KEYS, path, "at the top")
    timeouts = _table(data, "fleet", path)
    _known(timeouts, FLEET_KEYS, path, "in [fleet]")
    defaults = _timeouts(timeouts, path, "[fleet]", {})
    shared = _settings(_table(data, "settings", path), path, "[settings]")
    members = _table(data, "members", path)
    if not members:
        raise invalid(path, "lists no members", f'add one: [members.NAME] with {EXAMPLE} and project = "..."')
    found = tuple(_member(name, _table(members, name, path), path, defaults, shared) for name in members)
    _one_state_each(found, path)
    return Fleet(path, found)


def invalid(path: Path, what: str, hint: str, **data: object) -> FleetFileInvalid:
    return FleetFileInvalid(f"{path} {what}", hint, path=str(path), **data)


def _table(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    found = data.get(key, {})
    if not isinstance(found, dict):
        raise invalid(path, f"has {key} = {found!r}, not a table", f"write it as [{key}] with its keys below")
    return found


def _known(data: Mapping[str, Any], keys: frozenset[str], path: Path, where: str) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise invalid(path, f"has unknown keys {', '.join(unknown)} {where}", f"known: {', '.join(sorted(keys))}")


def _member(
    name: str, data: Mapping[str, Any], path: Path, defaults: Mapping[str, float], shared: Mapping[str, str]
) -> Member:
    where = f"[members.{name}]"
    _known(data, MEMBER_KEYS, path, f"in {where}")
    _check_name(name, path)
    build = data.get("build", True)
    if not isinstance(build, bool):
        raise invalid(path, f"{where} has build = {build!r}", "write build = true or build = false", member=name)
    own = _settings(_table(data, "settings", path), path, f"[members.{name}.settings]")
    return Member(
        name,
        _engine(data.get("engine"), path, where),
        _project(data.get("project"), path, where),
        build,
        MappingProxyType({**shared, **own}),
        **_timeouts(data, path, where, defaults),
    )


def _check_name(name: str, path: Path) -> None:
    if not PROJECT_RE.fullmatch(name):
        raise invalid(path, f"names a member {name!r}", "use lowercase letters and digits joined by '-' or '_'")


def _engine(value: object, path: Path, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise invalid(path, f"{where} has no engine", f'add {EXAMPLE} (or engine = "unix:///var/run/docker.sock")')
    if not is_address(value):
        raise invalid(path, f"{where} has engine = {value!r}", ADDRESS_HINT)
    return value


def is_address(value: str) -> bool:
    """An engine address the fleet takes: unix:///absolute/path or ssh://[user@]host[:port] (pure)."""
    parts = urlsplit(value)
    if parts.scheme == "unix":
        return parts.path.startswith("/") and not parts.netloc
    return parts.scheme == "ssh" and bool(parts.hostname) and not parts.path.strip("/") and not parts.password


def _project(value: object, path: Path, where: str) -> str:
    if not isinstance(value, str) or len(value) > PROJECT_MAX or not PROJECT_RE.fullmatch(value):
        raise invalid(
            path,
            f"{where} has project = {value!r}",
            f"write project = \"...\": up to {PROJECT_MAX} lowercase letters and digits joined by '-' or '_'",
        )
    return value


def _timeouts(data: Mapping[str, Any], path: Path, where: str, defaults: Mapping[str, float]) -> dict[str, float]:
    found = {"status_timeout": STATUS_TIMEOUT, "verify_timeout": VERIFY_TIMEOUT, **defaults}
    for key in FLEET_KEYS & data.keys():
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise invalid(path, f"{where} has {key} = {value!r}", f"write a number of seconds, e.g. {key} = 30")
        found[key] = float(value)
    return found


def _settings(data: Mapping[str, Any], path: Path, where: str) -> dict[str, str]:
    return {name: _setting(name, value, path, where) for name, value in data.items()}


def _setting(name: str, value: object, path: Path, where: str) -> str:
    _check_setting(name, path, where)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise invalid(path, f"{where} has {name} = {value!r}", f'write a string or a number, e.g. {name} = "1.0"')


def _check_setting(name: str, path: Path, where: str) -> None:
    declared = config.DECLARED.get(name)
    if any(word in name for word in SECRET_WORDS) or (declared is not None and declared.secret):
        raise invalid(
            path,
            f"{where} sets {name}, which is a secret",
            "secrets never go in fleet.toml (it is committed): keep them on the member's host, in its state volume",
        )
    try:
        config.refuse_unknown({name: ""})
    except UnknownSetting as unknown:
        raise invalid(path, f"{where} sets {name}, which is no setting of tradebot", unknown.hint) from None
    if not SETTING_RE.fullmatch(name) or name in FLEET_SETS or config.DECLARED[name].read_by not in MEMBERS_READ:
        raise invalid(
            path,
            f"{where} sets {name}",
            "a member sets the pipeline's and the services' settings; the fleet sets the project, repository, "
            "home and fleet file itself",
        )


def _one_state_each(members: tuple[Member, ...], path: Path) -> None:
    """A project names one state fleet-wide: two members of one project would be two writers of one name."""
    seen: dict[str, str] = {}
    for member in members:
        if member.project in seen:
            raise invalid(
                path,
                f"gives members {seen[member.project]} and {member.name} the one project {member.project!r}",
                "give each member a project of its own: a project names one state in the whole fleet",
            )
        seen[member.project] = member.name
