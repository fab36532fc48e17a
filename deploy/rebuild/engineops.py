"""The volume work of a rebuild on the engine: inventories, copies, volumes — one call each.

Each function is one engine action through a helper container (`deploy.engine.helpers.run`,
the probe of `deploy.engine.scripts`) or the volume API; the procedure (`deploy.rebuild.procedure`)
decides the order and proves the results. Sources are always mounted read-only.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import docker
import docker.errors

from deploy.engine import helpers, scripts
from deploy.errors import LegacyMissing
from deploy.rebuild import inventory
from deploy.rebuild.inventory import Inventory
from deploy.rebuild.layout import Layout
from deploy.rebuild.triage import Plan

FROM = "/from"
TO = "/to"


@dataclass(frozen=True)
class Helper:
    """Runs helpers of one project from one image already on the engine."""

    engine: docker.DockerClient
    image: str
    project: str

    def inventory(self, volume: str) -> Inventory:
        return inventory.parse(self._probe(("inventory", FROM), {volume: (FROM, "ro")}))

    def clone(self, source: str, target: str) -> None:
        """`target` gets everything `source` holds, owners, modes and times included."""
        argv = ["sh", "-c", f"cp -a {FROM}/. {TO}/ && sync"]
        self._run(argv, argv, {source: (FROM, "ro"), target: (TO, "rw")})

    def carry(self, source: str, target: str, plan: Plan, layout: Layout) -> None:
        """Copy the plan's carried files from `source` into `target`, owned and moded as the layout says."""
        owner = layout.state_volume
        expected = plan.expected(layout)
        spec = {
            "source": FROM,
            "target": TO,
            "uid": owner.uid,
            "gid": owner.gid,
            "dir_mode": owner.dir_mode,
            "files": [{"from": c.item.path, "to": c.to, "mode": expected[c.to].mode} for c in plan.carried],
        }
        mounts = {source: (FROM, "ro"), target: (TO, "rw")}
        self._probe(("copy", f"{helpers.FILES_AT}/spec.json"), mounts, {"spec.json": json.dumps(spec).encode()})

    def _probe(self, args: Sequence[str], mounts: helpers.Mounts, files: Mapping[str, bytes] | None = None) -> str:
        """`deploy.engine.scripts.probe` with `args`; its output."""
        return self._run(scripts.argv("probe", *args), ["probe", *args], mounts, files)

    def _run(
        self, argv: Sequence[str], what: Sequence[str], mounts: helpers.Mounts, files: Mapping[str, bytes] | None = None
    ) -> str:
        """Run `argv` as root in a helper with `mounts` (`files` beside it); its output. CommandFailed names `what`."""
        ran = helpers.run(
            self.engine,
            self.image,
            self.project,
            entrypoint=argv,
            mounts=mounts,
            user="0:0",
            files=files,
            working_dir="/",
        )
        return ran.checked(what).stdout.decode(errors="surrogateescape")


def labels_of(engine: docker.DockerClient, name: str) -> dict[str, str] | None:
    """The labels of volume `name`, None when there is no such volume."""
    try:
        return dict(engine.volumes.get(name).attrs.get("Labels") or {})
    except docker.errors.NotFound:
        return None


def require(engine: docker.DockerClient, name: str) -> None:
    if labels_of(engine, name) is None:
        raise LegacyMissing(f"no volume named {name}", "name the legacy volume as `docker volume ls` lists it")


def create(engine: docker.DockerClient, name: str, labels: Mapping[str, str]) -> None:
    engine.volumes.create(name, labels=dict(labels))


def remove(engine: docker.DockerClient, name: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        engine.volumes.get(name).remove()
