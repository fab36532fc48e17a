"""Reaching the meta volume (`meta._reach`): through the lock's container while it exists, else a helper."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import docker.errors
import pytest

from deploy.config import Settings
from deploy.engine import baseimage, helpers
from deploy.records import meta

SETTINGS = Settings(project="p")


class Lock:
    """The deploy lock's container, mounting the meta volume; `gone`: removed by hand meanwhile."""

    def __init__(self, gone: bool) -> None:
        self.gone = gone
        self.attrs = {"Mounts": [{"Name": SETTINGS.meta_volume}]}

    def reload(self) -> None:
        if self.gone:
            raise docker.errors.NotFound("No such container: p-deploy-lock")


@pytest.fixture
def own_helper(monkeypatch: pytest.MonkeyPatch) -> object:
    made = object()

    @contextlib.contextmanager
    def idle(*_args: object, **_kwargs: object) -> Iterator[object]:
        yield made

    monkeypatch.setattr(baseimage, "resolve", lambda _settings, _engine: "base")
    monkeypatch.setattr(helpers, "idle", idle)
    return made


@pytest.mark.parametrize("gone", [False, True], ids=["the lock's container", "it was removed: a helper"])
def test_reads_go_through_the_lock_container_only_while_it_exists(own_helper: object, gone: bool) -> None:
    lock = Lock(gone)
    with meta.through(SETTINGS, lock), meta._reach(SETTINGS, None, "ro") as reached:  # type: ignore[arg-type]
        assert reached is (own_helper if gone else lock)
        assert (SETTINGS.project in meta._THROUGH) is not gone  # given up for good once gone
