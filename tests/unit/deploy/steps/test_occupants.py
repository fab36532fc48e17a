"""Who else writes a deployment's state (pure): a Swarm stack of its name, a container mounting it; never its own."""

from __future__ import annotations

from deploy.config import Settings
from deploy.steps import occupants

SETTINGS = Settings(project="paper-1")


def container(name: str, labels: dict[str, str], volumes: tuple[str, ...] = (), rw: bool = True) -> dict[str, object]:
    return {"Name": f"/{name}", "Config": {"Labels": labels}, "Mounts": [{"Name": v, "RW": rw} for v in volumes]}


def test_the_deployments_own_containers_and_helpers_are_no_occupants() -> None:
    assert (
        occupants.occupant(
            container("paper-1-bot-1", {"com.docker.compose.project": "paper-1"}, ("paper-1_state",)), SETTINGS
        )
        == ""
    )
    assert (
        occupants.occupant(
            container("paper-1-backup", {"io.tradebot.helper-of": "paper-1"}, ("paper-1_state",)), SETTINGS
        )
        == ""
    )


def test_a_stack_of_the_same_name_and_a_container_mounting_the_state_are() -> None:
    task = container("paper-1_bot.1.x7", {"com.docker.stack.namespace": "paper-1"}, ("paper-1_state",))
    assert occupants.occupant(task, SETTINGS) == "container paper-1_bot.1.x7 of the Swarm stack paper-1"
    by_hand = container("debug", {}, ("paper-1_state",))
    assert occupants.occupant(by_hand, SETTINGS) == (
        "container debug, not of this deployment, mounts paper-1_state read-write"
    )
    assert occupants.occupant(container("tap", {}, ("paper-1_state",), rw=False), SETTINGS) == ""  # reads only
    other = container("paper-2-bot-1", {"com.docker.compose.project": "paper-2"}, ("paper-1_state",))
    assert occupants.occupant(other, SETTINGS).startswith("container paper-2-bot-1, not of this deployment")


def test_a_container_of_another_project_or_stack_is_none_of_its_business() -> None:
    assert (
        occupants.occupant(container("x", {"com.docker.stack.namespace": "paper-2"}, ("paper-2_state",)), SETTINGS)
        == ""
    )
