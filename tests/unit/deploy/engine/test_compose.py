from pathlib import Path

from deploy.config import Settings
from deploy.engine import compose

SETTINGS = Settings(project="tb-x", repo=Path("/srv/repo"))
TREE = Path("/tmp/tradebot-tree-x/0123abcd")
BASE = ["docker", "compose", "-f", f"{TREE}/docker-compose.yml", "--project-directory", str(TREE), "-p", "tb-x"]


def test_up_recreates_both_services_in_one_call_without_building_or_pulling() -> None:
    got = compose.up(("docker", "compose"), SETTINGS, TREE)
    assert got == [*BASE, "up", "-d", "--force-recreate", "--no-build", "--pull", "never", "bot", "worker"]


def test_up_can_shorten_the_grace_period_of_the_containers_it_replaces() -> None:
    got = compose.up(("docker", "compose"), SETTINGS, TREE, stop_timeout=3)
    grace = ["--timeout", "3"]
    assert got == [*BASE, "up", "-d", "--force-recreate", "--no-build", "--pull", "never", *grace, "bot", "worker"]


def test_remove_stops_and_removes_the_services_only() -> None:
    assert compose.remove(("docker", "compose"), SETTINGS, TREE) == [*BASE, "rm", "--stop", "--force", "bot", "worker"]


def test_remove_can_shorten_the_grace_period_of_a_release_that_failed() -> None:
    got = compose.remove(("docker", "compose"), SETTINGS, TREE, stop_timeout=1)
    assert got == [*BASE, "down", "--timeout", "1", "bot", "worker"]


def test_a_compose_binary_prefix_is_used_as_is() -> None:
    assert compose.up(("/opt/docker-compose",), SETTINGS, TREE, ["bot"])[:2] == ["/opt/docker-compose", "-f"]


def test_env_passes_the_runtime_settings_and_what_finds_the_engine_and_sets_the_project() -> None:
    got = compose.env(
        SETTINGS,
        {
            "TRADEBOT_TICK_SECONDS": "0.2",
            "TRADEBOT_PROJECT": "other",
            "PATH": "/bin",
            "HOME": "/home/op",
            "DOCKER_HOST": "ssh://op@bot-host",
        },
    )
    assert got == {
        "TRADEBOT_TICK_SECONDS": "0.2",
        "TRADEBOT_PROJECT": "tb-x",
        "PATH": "/bin",
        "HOME": "/home/op",
        "DOCKER_HOST": "ssh://op@bot-host",
        **compose.PINNED,
    }


def test_env_keeps_the_shells_compose_settings_and_everything_unknown_away_from_compose() -> None:
    shell = {
        "COMPOSE_FILE": "evil.yml",
        "COMPOSE_PROFILES": "debug",
        "COMPOSE_ENV_FILES": ".env.evil",
        "COMPOSE_DISABLE_ENV_FILE": "false",
        "COMPOSE_EXPERIMENTAL_GIT_REMOTE": "true",
        "PYTHONPATH": "/tmp",
        "LD_PRELOAD": "/tmp/x.so",
        "SYMBOLS": "XRPUSDT",
        "TRADEBOT_REPO": "/elsewhere",  # the pipeline's own setting, not the services'
    }
    assert compose.env(SETTINGS, shell) == {"TRADEBOT_PROJECT": "tb-x", **compose.PINNED}


def test_the_pins_switch_off_the_env_file_and_remote_includes() -> None:
    assert compose.PINNED == {
        "COMPOSE_DISABLE_ENV_FILE": "true",
        "COMPOSE_EXPERIMENTAL_GIT_REMOTE": "false",
        "COMPOSE_EXPERIMENTAL_OCI_REMOTE": "false",
    }


def test_config_prints_every_service_of_every_profile_resolved_or_as_written() -> None:
    every = [*BASE, "--profile", "*", "config", "--format", "json"]
    assert compose.config(("docker", "compose"), SETTINGS, TREE) == every
    assert compose.config(("docker", "compose"), SETTINGS, TREE, interpolate=False) == [*every, "--no-interpolate"]


def test_variables_prints_what_the_compose_file_interpolates() -> None:
    got = compose.variables(("docker", "compose"), SETTINGS, TREE)
    assert got == [*BASE, "config", "--variables", "--format", "json"]


def test_config_hash_prints_each_services_hash() -> None:
    assert compose.config_hash(("docker", "compose"), SETTINGS, TREE) == [*BASE, "config", "--hash", "bot,worker"]


def test_standby_starts_one_more_container_of_each_service_beside_the_running_ones() -> None:
    got = compose.standby(("docker", "compose"), SETTINGS, TREE)
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
