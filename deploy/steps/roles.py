"""Which containers play the bot and the worker: chosen by id, never the first one a listing happens to return.

A procedure knows the ids of the containers it started and judges, verifies and records those. A
look from outside an attempt (status, a standalone verify) takes each service's containers as the
engine lists them; more than one running container of a service outside an attempt is a finding.
"""

from __future__ import annotations

import docker
from docker.models.containers import Container

from deploy.config import SERVICES, Settings
from deploy.engine import compose
from deploy.errors import StartFailed
from deploy.ids import short


def of_project(settings: Settings, engine: docker.DockerClient) -> dict[str, list[Container]]:
    """Each service's containers (any state), oldest first."""
    found = engine.containers.list(all=True, filters={"label": f"{compose.PROJECT_LABEL}={settings.project}"})
    found.sort(key=lambda container: str(container.attrs.get("Created", "")))
    return {service: [c for c in found if c.labels.get(compose.SERVICE_LABEL) == service] for service in SERVICES}


def of_image(settings: Settings, engine: docker.DockerClient, image_id: str) -> dict[str, list[str]]:
    """Each service's containers that run `image_id`, by id, oldest first."""
    return {
        service: [c.id or "" for c in containers if c.attrs.get("Image") == image_id]
        for service, containers in of_project(settings, engine).items()
    }


def one_each(settings: Settings, engine: docker.DockerClient, image_id: str) -> dict[str, str]:
    """The one container of each service that runs `image_id` (its id); `StartFailed` when there is not one each."""
    found = of_image(settings, engine, image_id)
    for service, ids in found.items():
        if len(ids) != 1:
            raise StartFailed(
                f"{len(ids)} {service} containers run image {short(image_id)}, not one",
                "`docker ps -a` shows them; remove the ones no deploy made and deploy again",
                service=service,
                containers=ids,
            )
    return {service: ids[0] for service, ids in found.items()}
