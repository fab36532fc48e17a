"""The declared layout of the project's volumes (`volumes/layout.toml`), and the rules it makes.

Every rule is data in that file; this module only reads it and applies it:

- `classify(path)`: the first class (in the file's order) with an fnmatch pattern matching the
  path wins — `secret`, `code` or `state`; a path matching none is `unknown`.
- `target(path)`: where a carried file lands in the state volume: the legacy path with the first
  `strip_prefixes` entry it starts with removed.
- `repo_path(path)`: the path under `trading/` a legacy code file corresponds to (`code_map`),
  or None when no mapping covers it.
- `looks_legacy(paths)`: at least one of `legacy.look_for` is among the paths.
- `excluded(path)`: the reason of the first `[[exclude]]` entry with a pattern matching the path
  (never carried, whatever its class), or None.

Pure functions only; reading the file from the commit is the caller's job.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from deploy.errors import ConfigError

PATH = "volumes/layout.toml"
SECRET = "secret"
CODE = "code"
STATE = "state"
UNKNOWN = "unknown"
CLASSES = (SECRET, CODE, STATE)


@dataclass(frozen=True)
class StateVolume:
    compose_key: str
    uid: int
    gid: int
    dir_mode: int
    secret_mode: int


@dataclass(frozen=True)
class Layout:
    classes: tuple[tuple[str, tuple[str, ...]], ...]
    look_for: tuple[str, ...]
    strip_prefixes: tuple[str, ...]
    code_map: tuple[tuple[str, str], ...]
    state_volume: StateVolume
    excludes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (reason, patterns)

    def classify(self, path: str) -> str:
        for name, patterns in self.classes:
            if any(fnmatchcase(path, pattern) for pattern in patterns):
                return name
        return UNKNOWN

    def target(self, path: str) -> str:
        for prefix in self.strip_prefixes:
            if path.startswith(prefix) and len(path) > len(prefix):
                return path[len(prefix) :]
        return path

    def repo_path(self, path: str) -> str | None:
        for prefix, under in self.code_map:
            if path.startswith(prefix) and len(path) > len(prefix):
                return under + path[len(prefix) :]
        return None

    def looks_legacy(self, paths: Iterable[str]) -> bool:
        return not set(self.look_for).isdisjoint(paths)

    def excluded(self, path: str) -> str | None:
        for reason, patterns in self.excludes:
            if any(fnmatchcase(path, pattern) for pattern in patterns):
                return reason
        return None


def parse(text: str, where: str = PATH) -> Layout:
    """The layout in `text` (TOML); `ConfigError` names what is wrong with it."""
    try:
        data = tomllib.loads(text)
        classes = tuple((c["name"], tuple(c["patterns"])) for c in data["class"])
        volume = StateVolume(**data["state_volume"])
        legacy = data["legacy"]
        layout = Layout(
            classes,
            tuple(legacy["look_for"]),
            tuple(legacy["strip_prefixes"]),
            tuple(data.get("code_map", {}).items()),
            volume,
            tuple((e["reason"], tuple(e["patterns"])) for e in data.get("exclude", [])),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"{where} is not a valid volume layout ({exc})", f"fix {where} and commit it") from exc
    unknown = sorted({name for name, _ in classes} - set(CLASSES))
    if unknown:
        raise ConfigError(f"{where} names unknown classes {unknown}", f"use only {', '.join(CLASSES)}")
    return layout
