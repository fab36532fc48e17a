"""Which heartbeat file a container's read finds: its own process's, else (an older release) the role's."""

from __future__ import annotations

import io
import json
import tarfile

import docker.errors
import pytest

from deploy.config import STATE_PATH
from deploy.engine.compose import SERVICE_LABEL
from deploy.steps import heartbeats


def tar_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class Holding:
    """A container of the bot service whose state volume holds `files` (path → document)."""

    def __init__(self, files: dict[str, dict]) -> None:
        self.labels = {SERVICE_LABEL: "bot"}
        self.attrs = {"Config": {"Hostname": "3f2a4c5d6e7f"}}
        self.files, self.asked = files, []

    def get_archive(self, path: str) -> tuple[list[bytes], dict[str, object]]:
        self.asked.append(path)
        if path not in self.files:
            raise docker.errors.NotFound(path)
        return [tar_of(path.rsplit("/", 1)[1], json.dumps(self.files[path]).encode())], {}


OWN = f"{STATE_PATH}/heartbeat/bot/3f2a4c5d6e7f.json"
ROLE = f"{STATE_PATH}/heartbeat/bot.json"


def test_paths_name_the_container_or_the_lock_holder():
    container = Holding({})
    assert heartbeats.own(container) == heartbeats.path("bot", heartbeats.hostname_of(container)) == OWN  # type: ignore[arg-type]
    assert heartbeats.path("bot") == ROLE


def test_a_containers_read_finds_its_own_file_before_the_roles():
    container = Holding({OWN: {"stage": "standing_by"}, ROLE: {"stage": "running"}})
    assert heartbeats.read(container, "3f2a4c5d6e7f")["stage"] == "standing_by"  # type: ignore[arg-type]
    assert heartbeats.read(container)["stage"] == "running"  # type: ignore[arg-type]


def test_an_older_release_without_its_own_file_is_read_from_the_roles_file():
    container = Holding({ROLE: {"ticks": 4}})
    assert heartbeats.read(container, "3f2a4c5d6e7f") == {"ticks": 4}  # type: ignore[arg-type]
    assert container.asked == [OWN, ROLE]


def test_no_file_at_all_is_unreadable():
    with pytest.raises(heartbeats.UNREADABLE, match="no heartbeat at"):
        heartbeats.read(Holding({}), "3f2a4c5d6e7f")  # type: ignore[arg-type]
