from pathlib import Path

from deploy.config import Settings
from deploy.engine import compose

SETTINGS = Settings(project="tb-x", repo=Path("/srv/repo"))
BASE = ["docker", "compose", "-f", "-", "-p", "tb-x", "--project-directory", "/srv/repo"]


def test_up_recreates_both_services_in_one_call_without_building_or_pulling() -> None:
    got = compose.up(("docker", "compose"), SETTINGS)
    assert got == [*BASE, "up", "-d", "--force-recreate", "--no-build", "--pull", "never", "bot", "worker"]


def test_up_can_shorten_the_grace_period_of_the_containers_it_replaces() -> None:
    got = compose.up(("docker", "compose"), SETTINGS, stop_timeout=3)
    grace = ["--timeout", "3"]
    assert got == [*BASE, "up", "-d", "--force-recreate", "--no-build", "--pull", "never", *grace, "bot", "worker"]


def test_remove_stops_and_removes_the_services_only() -> None:
    assert compose.remove(("docker", "compose"), SETTINGS) == [*BASE, "rm", "--stop", "--force", "bot", "worker"]


def test_remove_can_shorten_the_grace_period_of_a_release_that_failed() -> None:
    got = compose.remove(("docker", "compose"), SETTINGS, stop_timeout=1)
    assert got == [*BASE, "down", "--timeout", "1", "bot", "worker"]


def test_a_compose_binary_prefix_is_used_as_is() -> None:
    assert compose.up(("/opt/docker-compose",), SETTINGS, ["bot"])[:2] == ["/opt/docker-compose", "-f"]


def test_env_passes_the_invoking_environment_through_and_sets_the_project() -> None:
    got = compose.env(SETTINGS, {"TRADEBOT_TICK_SECONDS": "0.2", "TRADEBOT_PROJECT": "other", "PATH": "/bin"})
    assert got == {"TRADEBOT_TICK_SECONDS": "0.2", "TRADEBOT_PROJECT": "tb-x", "PATH": "/bin"}


def test_config_prints_the_resolved_compose_file_as_json() -> None:
    assert compose.config(("docker", "compose"), SETTINGS) == [*BASE, "config", "--format", "json"]


def test_config_hash_prints_each_services_hash() -> None:
    assert compose.config_hash(("docker", "compose"), SETTINGS) == [*BASE, "config", "--hash", "bot,worker"]


def test_standby_starts_one_more_container_of_each_service_beside_the_running_ones() -> None:
    got = compose.standby(("docker", "compose"), SETTINGS)
    scale = ["--scale", "bot=2", "--scale", "worker=2"]
    assert got == [
        *BASE,
        "up",
        "-d",
        "--no-recreate",
        "--no-deps",
        "--no-build",
        "--pull",
        "never",
        *scale,
        "bot",
        "worker",
    ]
