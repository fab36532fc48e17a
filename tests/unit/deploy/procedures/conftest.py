"""A deployment without an engine for the procedures' unit tests (`site`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.procedures.procedure import Deployment
from tests.unit.deploy.procedures.site import Recorder, Site, deployment


@pytest.fixture
def seen() -> Recorder:
    return Recorder()


@pytest.fixture
def site(seen: Recorder, monkeypatch: pytest.MonkeyPatch) -> Site:
    """The engine as the procedures find it, in memory (empty: no image, volume or healthy service)."""
    return Site(seen).install(monkeypatch)


@pytest.fixture
def d(tmp_path: Path, seen: Recorder, site: Site) -> Deployment:
    """A deployment of project `p` on `site`, its records in `seen`, the shell setting nothing."""
    return deployment(tmp_path, seen)
