"""Comparing code points: given file maps, which files differ and how. Pure; no I/O.

A *point* is one place the code of `trading/` can be read: the commit, the
image label, the image's filesystem, a container's live filesystem, the
modules a process imported. The commit is the reference; every other point
must equal it, except an imported set, which may lack files the process never
imported (a subset) but must match on every file it has and must come from the
code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from deploy.config import CODE_PATH
from deploy.ids import short
from trading import codedigest


class Kind(StrEnum):
    MISSING = "missing"
    EXTRA = "extra"
    CHANGED = "changed"


@dataclass(frozen=True)
class Difference:
    path: str
    kind: Kind

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


@dataclass(frozen=True)
class Observation:
    """What was read at one point: files, a declared digest, the path code was imported from, or why nothing."""

    name: str
    files: Mapping[str, str] | None = None
    declared_digest: str | None = None
    imported_from: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class PointResult:
    name: str
    digest: str | None
    differences: tuple[Difference, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.problems

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PointResult:
        found = tuple(Difference(str(d["path"]), Kind(d["kind"])) for d in data.get("differences") or ())
        return cls(str(data["name"]), data.get("digest"), found, tuple(data.get("problems") or ()))

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ok": self.ok,
            "digest": self.digest,
            "differences": [{"path": d.path, "kind": str(d.kind)} for d in self.differences],
            "problems": list(self.problems),
        }


def differences(reference: Mapping[str, str], actual: Mapping[str, str], *, subset: bool = False) -> list[Difference]:
    """Every file that is missing from, extra in or changed in `actual`, sorted by path."""
    found = [Difference(p, Kind.CHANGED) for p in reference.keys() & actual.keys() if reference[p] != actual[p]]
    found += [Difference(p, Kind.EXTRA) for p in actual.keys() - reference.keys()]
    if not subset:
        found += [Difference(p, Kind.MISSING) for p in reference.keys() - actual.keys()]
    return sorted(found, key=lambda d: (d.path, d.kind))


def reference_point(name: str, files: Mapping[str, str]) -> PointResult:
    return PointResult(name, codedigest.digest(files))


def compare(reference: Mapping[str, str], seen: Observation) -> PointResult:
    """The result of one point against the commit's files."""
    if seen.error is not None:
        return PointResult(seen.name, None, problems=(seen.error,))
    if seen.files is None:
        return _compare_declared(reference, seen)
    subset = seen.imported_from is not None
    problems = _path_problems(seen.imported_from) if subset else ()
    found = tuple(differences(reference, seen.files, subset=subset))
    return PointResult(seen.name, codedigest.digest(seen.files), found, problems)


def _compare_declared(reference: Mapping[str, str], seen: Observation) -> PointResult:
    expected = codedigest.digest(reference)
    if seen.declared_digest is None:
        return PointResult(seen.name, None, problems=("no code digest declared",))
    if seen.declared_digest != expected:
        problem = f"declares digest {short(seen.declared_digest)}, the commit's is {short(expected)}"
        return PointResult(seen.name, seen.declared_digest, problems=(problem,))
    return PointResult(seen.name, seen.declared_digest)


def _path_problems(imported_from: str) -> tuple[str, ...]:
    if imported_from.rstrip("/") == CODE_PATH:
        return ()
    return (f"code imported from {imported_from}, not from {CODE_PATH}",)
