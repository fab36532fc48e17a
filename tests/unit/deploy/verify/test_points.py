"""Reading the points: a heartbeat the process keeps replacing (a torn archive is read again), what the inside
reports a process imported, owners and modes from the code archive."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator

import pytest

from deploy.engine import archive, scripts
from deploy.engine.compose import SERVICE_LABEL
from deploy.steps import heartbeats
from deploy.verify import points


def tar_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def torn(name: str, content: bytes) -> bytes:
    """What the engine streams when the file is replaced between its stat and its read."""
    whole = tar_of(name, content)
    return whole[: 512 + len(content) // 2]


class Replaying:
    """A container whose archive reads return the given tars in turn."""

    def __init__(self, *tars: bytes) -> None:
        self.labels = {SERVICE_LABEL: "bot"}
        self.tars: Iterator[bytes] = iter(tars)
        self.reads = 0

    def get_archive(self, path: str) -> tuple[list[bytes], dict[str, object]]:
        assert path == heartbeats.path("bot")
        self.reads += 1
        return [next(self.tars)], {}


BEAT = json.dumps({"role": "bot", "pad": "x" * 3000}).encode()


def test_a_torn_archive_is_an_error_not_a_short_file() -> None:
    with pytest.raises(tarfile.TarError):
        archive.unpack(torn("bot.json", BEAT))


def test_a_torn_heartbeat_read_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heartbeats.time, "sleep", lambda _: None)
    container = Replaying(torn("bot.json", BEAT), torn("bot.json", BEAT), tar_of("bot.json", BEAT))
    assert heartbeats.read(container)["role"] == "bot"  # type: ignore[arg-type]
    assert container.reads == 3


def test_a_heartbeat_torn_on_every_attempt_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heartbeats.time, "sleep", lambda _: None)
    container = Replaying(*[torn("bot.json", BEAT)] * heartbeats.READ_ATTEMPTS)
    with pytest.raises(heartbeats.UNREADABLE):
        heartbeats.read(container)  # type: ignore[arg-type]
    assert container.reads == heartbeats.READ_ATTEMPTS


class Asked:
    """A running container as `read_imported` sees it: a name and a hostname."""

    name = "tradebot-bot-1"
    attrs = {"Config": {"Hostname": "c0ffee"}}  # noqa: RUF012


def test_the_imported_code_counts_only_from_a_heartbeat_its_own_container_wrote() -> None:
    code = {"files": {"bot.py": "ab"}, "path": "/app/trading"}
    own = {"heartbeat": {"hostname": "c0ffee", "code": code}}
    seen = points.read_imported("bot imported", Asked(), lambda: own)  # type: ignore[arg-type]
    assert seen.files == {"bot.py": "ab"} and seen.imported_from == "/app/trading" and not seen.error
    left = {"heartbeat": {"hostname": "dead00", "code": code}}
    assert "not tradebot-bot-1" in points.read_imported("b", Asked(), lambda: left).error  # type: ignore[arg-type]
    unread = {"heartbeat": None, "heartbeat_error": "No such file"}
    error = points.read_imported("b", Asked(), lambda: unread).error  # type: ignore[arg-type]
    assert error == "no readable heartbeat in tradebot-bot-1"


class OwnBeat(Replaying):
    """A service container whose own process's heartbeat reads return the given tars in turn."""

    attrs = {"Config": {"Hostname": "c0ffee"}}  # noqa: RUF012

    def get_archive(self, path: str) -> tuple[list[bytes], dict[str, object]]:
        assert path == heartbeats.path("bot", "c0ffee")
        self.reads += 1
        return [next(self.tars)], {}


def test_verify_reads_the_heartbeat_of_the_container_s_own_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heartbeats.time, "sleep", lambda _: None)
    assert points.read_heartbeat(OwnBeat(tar_of("c0ffee.json", BEAT))) == {"heartbeat": json.loads(BEAT)}  # type: ignore[arg-type]
    found = points.read_heartbeat(OwnBeat(*[torn("c0ffee.json", BEAT)] * heartbeats.READ_ATTEMPTS))  # type: ignore[arg-type]
    assert found["heartbeat"] is None and found["heartbeat_error"]


def test_verify_s_side_container_joins_the_pid_namespace_with_ptrace_as_its_only_capability() -> None:
    assert points.sidecar_spec("c0ffee") == {
        "entrypoint": ["python3", "-I", "-c", scripts.source("inside")],
        "user": "0:0",
        "pid_mode": "container:c0ffee",
        "cap_drop": ["ALL"],
        "cap_add": ["SYS_PTRACE"],
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
    }


def test_owners_and_modes_come_from_the_archive_headers() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        top = tarfile.TarInfo("trading")
        top.type, top.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(top)
        module = tarfile.TarInfo("trading/bot.py")
        module.uid, module.gid, module.mode = 10001, 10001, 0o100664
        tar.addfile(module, io.BytesIO(b""))
    assert points.tar_owners(buffer.getvalue()) == [
        ("/app/trading", 0, 0, 0o755),
        ("/app/trading/bot.py", 10001, 10001, 0o664),
    ]
