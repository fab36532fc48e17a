"""Who else writes this deployment's state on its engine: a Swarm stack of the same name, or a container run by hand.

`docker stack deploy` of the compose file under the project's name starts services `<project>_bot`
and `<project>_worker` whose containers mount the same `<project>_state` (the file names it) but
carry the stack's label (`com.docker.stack.namespace`), never Compose's project label. Unnamed, such
a stack made `invoke status` print "no containers", `invoke deploy` fail advising a restore, and
`invoke restore` copy state under its running bot.

Rules:
- an occupant is a container that carries the project's stack label, or mounts the state volume
  read-write, and is neither a Compose container of the project nor one of its helpers
  (`deploy.engine.helpers`); or a Swarm service of the project's stack (on a swarm manager);
- a deployment that moved to another engine (`deploy.steps.moves`) is not here any more;
- `invoke status` names the move and every occupant (`lines`); every command that changes the
  deployment refuses before anything stops (`refuse`, under the deploy lock, exit 10) when it moved
  away (`DeploymentMoved`) or a stack of its name is there (`SecondWriter`). A container the operator
  ran by hand on the state is named, not refused: it is theirs (a disk filler, a repair).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import docker
import docker.errors

from deploy.config import Settings
from deploy.engine.compose import PROJECT_LABEL
from deploy.engine.helpers import HELPER_OF
from deploy.errors import SecondWriter, first_of
from deploy.steps import moves

STACK_LABEL = "com.docker.stack.namespace"
STACK = "of the Swarm stack"


def occupant(attrs: Mapping[str, Any], settings: Settings) -> str:
    """Why the container (inspect data) occupies the deployment's state ('' when it is the deployment's own; pure)."""
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    if settings.project in (labels.get(PROJECT_LABEL), labels.get(HELPER_OF)):
        return ""
    name = str(attrs.get("Name", "")).lstrip("/")
    if labels.get(STACK_LABEL) == settings.project:
        return f"container {name} {STACK} {settings.project}"
    written = {mount.get("Name") for mount in attrs.get("Mounts") or () if mount.get("RW", True)}
    if settings.state_volume in written:
        return f"container {name}, not of this deployment, mounts {settings.state_volume} read-write"
    return ""


def found(settings: Settings, engine: docker.DockerClient) -> list[str]:
    """Every occupant on the engine, each said as what it is."""
    by_label = engine.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{STACK_LABEL}={settings.project}"}
    )
    by_volume = engine.containers.list(ignore_removed=True, all=True, filters={"volume": settings.state_volume})
    unique = {container.id: container for container in [*by_label, *by_volume]}.values()
    said = [occupant(container.attrs, settings) for container in unique]
    return sorted(line for line in said if line) + _services(settings, engine)


def _services(settings: Settings, engine: docker.DockerClient) -> list[str]:
    """The services of a stack of the project's name (none when the engine manages no swarm)."""
    try:
        services = engine.services.list(filters={"label": f"{STACK_LABEL}={settings.project}"})
    except docker.errors.APIError:
        return []  # "This node is not a swarm manager": no stack can be deployed here
    return [f"service {service.name} {STACK} {settings.project}" for service in services]


def lines(settings: Settings, engine: docker.DockerClient) -> list[str]:
    """What `invoke status` says: where the deployment moved, and each occupant."""
    moved = moves.moved_to(settings, engine)
    said = [f"{settings.project} moved to {moved.to} at {moved.at}: it runs there now"] if moved else []
    return said + [
        f"{line}: no part of this deployment, it writes {settings.state_volume}" for line in found(settings, engine)
    ]


def refuse(settings: Settings, engine: docker.DockerClient) -> None:
    """DeploymentMoved when it moved away; SecondWriter, naming the occupants, when there is one."""
    moves.refuse_moved(settings, engine)
    stack = [line for line in found(settings, engine) if STACK in line]
    if stack:
        raise SecondWriter(
            f"a Swarm stack named {settings.project} writes {settings.state_volume} on this engine: "
            f"{first_of(stack, 3, '; ')}",
            f"nothing was changed; remove the stack first (`docker stack rm {settings.project}`), or deploy under "
            "another TRADEBOT_PROJECT",
            occupants=stack,
        )
