"""Which engine address an unreachable engine names, and what it says to check there."""

from __future__ import annotations

import pytest

from deploy.engine.client import unreachable
from deploy.errors import EngineUnreachable


@pytest.mark.parametrize(
    ("docker_host", "named", "check"),
    [
        ("", "unix:///var/run/docker.sock (DOCKER_HOST is not set)", "that dockerd runs"),
        ("unix:///run/user/1000/docker.sock", "DOCKER_HOST=unix:///run/user/1000/docker.sock", "that dockerd runs"),
        (
            "ssh://deploy@bot-host:2222",
            "DOCKER_HOST=ssh://deploy@bot-host:2222",
            "`ssh -p 2222 deploy@bot-host docker version`",
        ),
        ("tcp://10.0.0.5:2376", "DOCKER_HOST=tcp://10.0.0.5:2376", "DOCKER_TLS_VERIFY=1"),
    ],
)
def test_the_error_names_the_address_tried_and_what_to_check(docker_host: str, named: str, check: str) -> None:
    error = unreachable(docker_host, "Error while fetching server API version: ('Connection aborted.')\nmore")
    assert isinstance(error, EngineUnreachable) and error.exit_code == 3
    assert error.message == f"Docker engine unreachable at {named}: Error while fetching server API version: " + (
        "('Connection aborted.')"
    )
    assert check in error.hint and error.hint.endswith("or point DOCKER_HOST at the engine")
