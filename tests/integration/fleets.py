"""What the fleet's integration tests share: a fleet file of private engines, `invoke` against it, and cleaning up.

Each member is a project of the test's sandbox repository on an engine the test started
(`tests.integration.engines`), one of them reached through the ssh test server (`tests.integration.sshd`).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors

from testsupport.cli import invoke
from testsupport.failing import HANG
from testsupport.sandbox import Sandbox


@dataclass(frozen=True)
class Seat:
    """One member as the test sees it: its name and project, its engine's address and a client of that engine."""

    name: str
    project: str
    address: str
    engine: docker.DockerClient
    extra: str = ""  # more lines of its [members.NAME] table


def fleet_file(path: Path, seats: Iterable[Seat], head: str = "") -> Path:
    tables = [f'[members.{s.name}]\nengine = "{s.address}"\nproject = "{s.project}"\n{s.extra}\n' for s in seats]
    path.write_text(head + "\n" + "\n".join(tables))
    return path


def fleet_invoke(
    box: Sandbox, fleet: Path, *args: str, timeout: float, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`invoke ARGS` of the sandbox with TRADEBOT_FLEET set; the run and its JSON document (`{}` without one)."""
    done = invoke(box, *args, timeout=timeout, TRADEBOT_FLEET=str(fleet), **env)
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError:
        document = {}
    return done, document


def by_member(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {member["member"]: member for member in document.get("members", ())}


def remove(box: Sandbox, seats: Iterable[Seat]) -> None:
    """Everything each member's project made on its engine (containers, networks, volumes, images)."""
    for seat in seats:
        Sandbox(box.repo, dataclasses.replace(box.settings, project=seat.project), seat.engine).remove()


def crashing(box: Sandbox) -> str:
    """Commit a release whose bot raises as it starts: it never becomes healthy."""
    source = (box.repo / "trading/bot.py").read_text()
    assert HANG in source
    crash = source.replace(HANG, HANG + "        raise RuntimeError('this release crashes as it starts')\n")
    return box.commit("bot crashes as it starts", {"trading/bot.py": crash})


def live_commit(seat: Seat) -> str:
    image = seat.engine.images.get(f"{seat.project}:live")
    return image.labels["org.opencontainers.image.revision"]


def running(seat: Seat) -> dict[str, str]:
    """Service → id of the member's running containers."""
    found = seat.engine.containers.list(filters={"label": f"com.docker.compose.project={seat.project}"})
    return {c.labels["com.docker.compose.service"]: c.id for c in found}


@dataclass
class OneWriter:
    """Watches every engine while a test runs: at no moment is a project's state volume mounted on two engines, or on
    one by anything but its own project's containers (a Compose service of the project, or one of its helpers)."""

    seats: Sequence[Seat]
    seen: list[str] = field(default_factory=list)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> OneWriter:
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)

    def _watch(self) -> None:
        engines = {id(seat.engine): seat for seat in self.seats}.values()
        while not self._stop.wait(0.2):
            where: dict[str, set[str]] = {}
            for seat in engines:
                for project, name, own in self._mounts(seat):
                    where.setdefault(project, set()).add(seat.name)
                    if not own:
                        self.seen.append(f"{name} on {seat.name}'s engine mounts {project}_state")
            self.seen += [f"{p}_state is mounted on {sorted(on)} at once" for p, on in where.items() if len(on) > 1]
            self.samples += 1

    def _mounts(self, seat: Seat) -> list[tuple[str, str, bool]]:
        """(project, container, its own?) of each running container mounting one of the projects' state volumes."""
        try:
            found = seat.engine.containers.list()
        except docker.errors.DockerException:
            return []  # a frozen or stopping engine: nothing starts on it meanwhile
        projects = {s.project for s in self.seats}
        mounts = []
        for container in found:
            labels = container.labels
            owners = (labels.get("com.docker.compose.project"), labels.get("io.tradebot.helper-of"))
            for mount in container.attrs.get("Mounts") or ():
                project = str(mount.get("Name", "")).removesuffix("_state")
                if project in projects and mount.get("Name") == f"{project}_state":
                    mounts.append((project, container.name, project in owners))
        return mounts
