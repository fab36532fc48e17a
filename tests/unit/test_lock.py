"""The lock files ./bootstrap installs: every requirement of pyproject.toml pinned inside its range, with hashes.

pyproject.toml keeps ranges that stop before the next major; a change to them without `invoke lock`
fails here, naming the requirement the locks do not satisfy.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME = [Requirement(r) for r in PROJECT["project"]["dependencies"] + PROJECT["build-system"]["requires"]]
DEV = [Requirement(r) for r in PROJECT["project"]["optional-dependencies"]["dev"]]


def pinned(name: str) -> dict[str, tuple[str, int]]:
    """{package: (version, number of hashes)} of a lock file."""
    found: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=\S)", (ROOT / name).read_text()):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if match:
            found[canonicalize_name(match[1])] = (match[2], block.count("--hash=sha256:"))
    return found


@pytest.mark.parametrize(("lock", "wanted"), [("requirements.lock", RUNTIME), ("requirements-dev.lock", RUNTIME + DEV)])
def test_each_requirement_is_pinned_inside_its_range_with_hashes(lock: str, wanted: list[Requirement]) -> None:
    found = pinned(lock)
    for requirement in wanted:
        version, hashes = found.get(canonicalize_name(requirement.name), ("", 0))
        assert version in requirement.specifier and hashes, (
            f"{lock}: {requirement} is {version or 'missing'}: invoke lock"
        )
    assert all(hashes for _, hashes in found.values())


def test_every_range_stops_before_the_next_major() -> None:
    for requirement in RUNTIME + DEV:
        assert any(spec.operator == "<" for spec in requirement.specifier), f"{requirement} has no upper bound"


def test_the_locks_name_no_package_index() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        assert not re.search(r"https?://|file:|--(extra-)?index-url|--find-links|--trusted-host", text), lock
