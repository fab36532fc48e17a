"""Verify's view around the containers, on an engine kept in memory: every container of the project judged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import docker.errors

from deploy.config import Settings
from deploy.engine.helpers import HELPER_OF, PID
from deploy.steps.lock import LABEL as LOCK
from deploy.verify import deployment
from tests.unit.deploy.policy.test_rules import CLEAN as HOST_ACCESS
from tests.unit.deploy.policy.test_shape import CLEAN as RUNS
from tests.unit.deploy.policy.test_shape import IMAGE, LIVE

SETTINGS = Settings(project="tb")


@dataclass
class Listed:
    attrs: dict[str, Any]


@dataclass
class Found:
    attrs: dict[str, Any]
    name: str = ""
    id: str = LIVE


@dataclass
class Volumes:
    known: dict[str, dict[str, Any]]

    def get(self, name: str) -> Found:
        if name not in self.known:
            raise docker.errors.NotFound(name)
        return Found(self.known[name])


@dataclass
class Containers:
    listed: list[dict[str, Any]] = field(default_factory=list)

    def list(self, **_: object) -> list[Listed]:
        return [Listed(attrs) for attrs in self.listed]


@dataclass
class Engine:
    volumes: Volumes
    containers: Containers

    def info(self) -> dict[str, str]:
        return {"CgroupVersion": "1"}


def container(name: str, service: str) -> Found:
    attrs = {**HOST_ACCESS, **RUNS, "HostConfig": {**HOST_ACCESS["HostConfig"], **RUNS["HostConfig"]}}
    cmd = {"bot": ["bot"], "worker": ["worker"]}.get(service, ["bot"])
    health = ["CMD", "python3", "-I", "-m", "trading", "health", "--role", service]
    attrs["Config"] = {**RUNS["Config"], **HOST_ACCESS["Config"], "Cmd": cmd, "Healthcheck": {"Test": health}}
    return Found(attrs, name)


def failed(containers: dict[str, list[Found]], writers: list[dict[str, Any]] | None = None) -> set[tuple[str, str]]:
    known = {"tb_state": {"Mountpoint": "/v/tb_state/_data"}, "tb_meta": {"Mountpoint": "/v/tb_meta/_data"}}
    engine = Engine(Volumes(known), Containers(writers or []))
    checks = deployment.checks(SETTINGS, engine, Found(IMAGE, id=LIVE), containers)  # type: ignore[arg-type]
    return {(c.target, c.name) for c in checks if not c.ok}


def test_bot_and_worker_as_deployed_pass_every_check_around_them() -> None:
    assert failed({"bot": [container("tb-bot-1", "bot")], "worker": [container("tb-worker-1", "worker")]}) == set()


def test_a_container_of_another_service_is_judged_and_named() -> None:
    evil = container("tb-evil-1", "evil")
    evil.attrs["HostConfig"] = {**evil.attrs["HostConfig"], "Privileged": True}
    writer = {
        "Names": ["/tb-evil-1"],
        "ImageID": LIVE,
        "State": "running",
        "Labels": {"com.docker.compose.project": "tb", "com.docker.compose.service": "evil"},
        "Mounts": [{"Type": "volume", "Name": "tb_state", "RW": True}],
    }
    found = failed({"bot": [container("tb-bot-1", "bot")], "evil": [evil]}, [writer])
    assert found == {
        ("project", "policy: services"),
        ("state volume", "one writer"),
        ("evil", "policy: privileged"),
        ("evil", "policy: command"),
        ("evil", "policy: healthcheck"),
    }


def test_only_the_pipelines_helpers_and_lock_container_may_write_the_meta_volume() -> None:
    def mounting(name: str, labels: dict[str, str]) -> dict[str, Any]:
        mount = {"Type": "volume", "Name": "tb_meta", "RW": True}
        return {"Names": [f"/{name}"], "ImageID": LIVE, "State": "created", "Labels": labels, "Mounts": [mount]}

    bot = {"bot": [container("tb-bot-1", "bot")], "worker": [container("tb-worker-1", "worker")]}
    pipeline = [mounting("tb-meta-1", {HELPER_OF: "tb", PID: "1"}), mounting("tb-deploy-lock", {LOCK: "tb"})]
    assert failed(bot, pipeline) == set()
    assert failed(bot, [*pipeline, mounting("by-hand", {HELPER_OF: "other"})]) == {("meta volume", "one writer")}
