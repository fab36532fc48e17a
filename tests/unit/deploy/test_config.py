from pathlib import Path

import pytest

from deploy.config import Settings, runtime, with_runtime
from deploy.errors import ConfigError


def test_defaults_name_everything_after_the_project(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRADEBOT_REPO": str(tmp_path)})
    assert settings.project == "tradebot"
    assert settings.state_volume == "tradebot_state"
    assert settings.live_image == "tradebot:live"
    assert settings.previous_image == "tradebot:previous"
    assert settings.release_image("abc") == "tradebot:abc"
    assert settings.data_dir == tmp_path / ".tradebot" / "tradebot"
    assert settings.base_image is None and settings.compose is None


def test_project_renames_images_volume_and_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRADEBOT_PROJECT": "paper-2", "TRADEBOT_HOME": str(tmp_path)})
    assert (settings.state_volume, settings.live_image) == ("paper-2_state", "paper-2:live")
    assert settings.data_dir == tmp_path / "paper-2"


@pytest.mark.parametrize(
    "name", ["Tradebot", "-x", "a b", "a/b", "", "a\n", "a_-x", "a-", "a_", "a___b", "a" * 64, "paper\n2"]
)
def test_invalid_project_names_are_refused_with_a_hint(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"TRADEBOT_PROJECT": name})
    assert "TRADEBOT_PROJECT" in caught.value.message and caught.value.hint


@pytest.mark.parametrize("name", ["a", "paper-2", "a--b", "a__b", "tradebot_t1", "a" * 63])
def test_names_docker_accepts_pass(name: str) -> None:
    assert Settings.from_env({"TRADEBOT_PROJECT": name}).project == name


@pytest.mark.parametrize("raw", ["0", "-1", "three", "1.5"])
def test_counts_must_be_positive_whole_numbers(raw: str) -> None:
    with pytest.raises(ConfigError, match="TRADEBOT_KEEP_RELEASES"):
        Settings.from_env({"TRADEBOT_KEEP_RELEASES": raw})


def test_compose_override_is_split_like_a_shell(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRADEBOT_COMPOSE": "'/opt/my compose/docker-compose' --ansi never"})
    assert settings.compose == ("/opt/my compose/docker-compose", "--ansi", "never")


def test_runtime_settings_are_the_services_variables_and_replay_over_the_shell() -> None:
    shell = {"PATH": "/bin", "TRADEBOT_PROJECT": "tb", "TRADEBOT_TICK_SECONDS": "abc", "TRADEBOT_SEED": "3"}
    assert runtime(shell) == {"TRADEBOT_TICK_SECONDS": "abc", "TRADEBOT_SEED": "3"}
    replayed = with_runtime(shell, {"TRADEBOT_TICK_SECONDS": "0.2"})
    assert replayed == {"PATH": "/bin", "TRADEBOT_PROJECT": "tb", "TRADEBOT_TICK_SECONDS": "0.2"}
