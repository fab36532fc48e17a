"""Verify's view around the containers: the image they run, every container of the project, who writes the state.

- `release image` (a point): the live image is one the pipeline built and recorded for its commit
  (`deploy.verify.provenance`), every layer included.
- `policy: <setting>`: the security policy (`deploy.policy.rules`) on every running container of the
  project, whatever its service: one started beside bot and worker (`docker compose up evil`) is
  judged like them.
- `policy: services` (target `project`): each running container of the project belongs to a service
  the policy declares.
- `one writer` (target `state volume`): no container but the deployment's own bot and worker mounts
  the state volume writable (`deploy.steps.writers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.images import Image

from deploy.config import SERVICES, Settings
from deploy.policy import posture, rules
from deploy.policy.check import Check
from deploy.steps import images, tags, writers
from deploy.verify import provenance
from deploy.verify.codecompare import PointResult

PROJECT = "project"


def points(settings: Settings, engine: docker.DockerClient, image: Image) -> list[PointResult]:
    """The points about the live `image` as a whole."""
    release = images.ReleaseImage.of(image)
    records = tags.known(settings, engine)
    return [provenance.release_image_point(release.image_id, release.layers, release.commit, records)]


def checks(settings: Settings, engine: docker.DockerClient, containers: Mapping[str, list[Container]]) -> list[Check]:
    """`containers`: the project's running containers by their service label ('' when it has none)."""
    declared = rules.load()
    judged = [
        check
        for service, running in containers.items()
        for container in running
        for check in policy_checks(engine, service or container.name, container, declared, settings.project)
    ]
    return [*judged, services_check(containers), writers.check(settings, engine, SERVICES)]


def services_check(containers: Mapping[str, list[Container]]) -> Check:
    extra = [(c.name, s or "(none)") for s, found in containers.items() if s not in SERVICES for c in found]
    named = [f"{name} of service {service}, not declared" for name, service in sorted(extra)]
    return Check(PROJECT, "policy: services", not named, "; ".join(named))


def policy_checks(
    engine: docker.DockerClient, target: str, container: Container, declared: rules.Policy, project: str
) -> list[Check]:
    """The security policy, judged on the running container's settings (one changed by hand is caught)."""
    attrs = container.attrs
    names = [str(m.get("Name")) for m in attrs.get("Mounts") or () if m.get("Type") == "volume"]
    return rules.judge(target, posture.from_inspect(attrs, volume_attrs(engine, names)), declared, project)


def volume_attrs(engine: docker.DockerClient, names: list[str]) -> dict[str, dict[str, Any]]:
    """The inspect data (driver, options) of the volumes `names` that still exist."""
    found = {}
    for name in names:
        try:
            found[name] = engine.volumes.get(name).attrs
        except docker.errors.NotFound:
            continue
    return found
