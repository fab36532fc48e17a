"""Verify's view around the containers: the image they run, every container of the project, who writes the state.

- `release image` (a point): the live image is one the pipeline built and recorded for its commit
  (`deploy.verify.provenance`), every layer included.
- `policy: <setting>`: the security policy (`deploy.policy.rules`, `deploy.policy.shape`) on every
  running container of the project, whatever its service: one started beside bot and worker
  (`docker compose up evil`) is judged like them. What runs is judged against the live image: an
  entrypoint, working directory, environment variable or label the image does not have is the
  container's own.
- `policy: services` (target `project`): each running container of the project belongs to a service
  the policy declares.
- `one writer` (target `state volume`): no container but the deployment's own bot and worker mounts
  the state volume writable; (target `meta volume`): none but the pipeline's helpers and lock container
  mounts the meta volume writable (`deploy.steps.writers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.images import Image

from deploy.config import Settings
from deploy.policy import posture, project, rules, shape
from deploy.policy.check import Check
from deploy.records.view import Records
from deploy.steps import images, tags, writers
from deploy.verify import provenance
from deploy.verify.codecompare import PointResult


def points(
    settings: Settings, engine: docker.DockerClient, image: Image, records: Records | None = None
) -> list[PointResult]:
    """The points about the live `image` as a whole; `records`: the command's (`deploy.records.view`)."""
    release = images.ReleaseImage.of(image)
    known = tags.known(settings, engine, records)
    return [provenance.release_image_point(release.image_id, release.layers, release.commit, known)]


def checks(
    settings: Settings,
    engine: docker.DockerClient,
    image: Image,
    containers: Mapping[str, list[Container]],
    own_image: Mapping[str, Image] | None = None,
) -> list[Check]:
    """`image`: the live image; `containers`: the project's running containers by service label ('' when none);
    `own_image`: containers (by id) judged against an image of their own (an attempt's standbys: its image)."""
    declared = rules.load()
    default = cgroupns_default(engine)
    mine = own_image or {}
    judged = [
        check
        for service, running in containers.items()
        for container in running
        for check in policy_checks(
            engine, service, container, mine.get(container.id or "", image), declared, settings.project, default
        )
    ]
    running = [service or container.name for service, found in containers.items() for container in found]
    services = [project.services_check(running, declared)] if declared.judges_services else []
    return [*judged, *services, *writers.checks(settings, engine, tuple(declared.services))]


def cgroupns_default(engine: docker.DockerClient) -> str:
    """The cgroup namespace a container gets unless told otherwise: host on cgroup v1, private on v2."""
    return "host" if str(engine.info().get("CgroupVersion", "1")) == "1" else "private"


def policy_checks(
    engine: docker.DockerClient,
    service: str,
    container: Container,
    image: Image,
    declared: rules.Policy,
    name: str,
    cgroupns: str,
) -> list[Check]:
    """The security policy, judged on the running container's settings (one changed by hand is caught).

    `name`: the project's; `cgroupns`: the engine's default cgroup namespace (`cgroupns_default`).
    """
    attrs, target = container.attrs, service or container.name
    names = [str(m.get("Name")) for m in attrs.get("Mounts") or () if m.get("Type") == "volume"]
    found = rules.judge(target, posture.from_inspect(attrs, volume_attrs(engine, names)), declared, name)
    if declared.judges_services:
        found += shape.judge(target, shape.from_inspect(attrs, image.attrs, cgroupns), declared, image.id)
    return found


def volume_attrs(engine: docker.DockerClient, names: list[str]) -> dict[str, dict[str, Any]]:
    """The inspect data (driver, options) of the volumes `names` that still exist."""
    found = {}
    for name in names:
        try:
            found[name] = engine.volumes.get(name).attrs
        except docker.errors.NotFound:
            continue
    return found
