"""Which engine address an unreachable engine names, and what it says to check there."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.engine import client
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


def test_dockers_own_plugin_comes_first_and_a_link_to_the_packages_binary_is_not_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "compose"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "docker-compose").write_text("#!binary")
    plugins = tmp_path / "config" / "cli-plugins"
    plugins.mkdir(parents=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "config"))
    monkeypatch.setattr(client, "PLUGIN_DIRS", ())
    monkeypatch.setattr(client, "_bundled_binary", lambda: package / "docker-compose")
    monkeypatch.setattr(client.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert client._candidates() == [(str(package / "docker-compose"),)]  # no plugin at all
    (plugins / "docker-compose").symlink_to(package / "docker-compose")
    assert client._candidates() == [(str(package / "docker-compose"),)]  # ./bootstrap's old link: the package's
    (plugins / "docker-compose").unlink()
    (plugins / "docker-compose").write_text("#!docker's own")
    assert client._candidates() == [client.PLUGIN, (str(package / "docker-compose"),)]
