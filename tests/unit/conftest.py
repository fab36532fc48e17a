"""What every unit test starts from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.engine import client


@pytest.fixture(autouse=True)
def no_engine_connection_from_earlier_tests() -> Iterator[None]:
    """The engine connection `client.connect` keeps per process is made afresh for each unit test, and dropped after.

    In one run of the whole suite the integration tests connect first (`docker_client`); a unit test that
    sets DOCKER_HOST must reach that address, not the engine an earlier test connected to.
    """
    client.connect.cache_clear()
    yield
    client.connect.cache_clear()
