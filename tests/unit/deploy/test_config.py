import re
from pathlib import Path

import pytest
import yaml

from deploy.config import (
    DECLARED,
    SETTINGS,
    Declared,
    Reader,
    Settings,
    is_runtime,
    refuse_unknown,
    runtime,
    shown,
    with_runtime,
)
from deploy.errors import ConfigError, UnknownSetting


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


ROOT = Path(__file__).resolve().parents[3]
READERS = ("trading", "deploy", "bootstrap", "docker-compose.yml", "Dockerfile")


def read_in_code() -> set[str]:
    """Every TRADEBOT_* name the bot, the pipeline, ./bootstrap, the compose file and the Dockerfile mention."""
    files = [
        path for name in READERS for path in ([ROOT / name] if (ROOT / name).is_file() else (ROOT / name).rglob("*.py"))
    ]
    return {found for path in files for found in re.findall(r"\bTRADEBOT_[A-Z0-9_]*[A-Z0-9]\b", path.read_text())}


def test_every_setting_the_code_reads_is_declared_and_every_declared_one_is_read() -> None:
    assert read_in_code() == set(DECLARED)


def test_the_compose_file_passes_exactly_the_settings_of_bot_and_worker() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    passed = set(compose["x-runtime-env"]) - {"TRADEBOT_STATE_DIR"}
    assert passed == {setting.name for setting in SETTINGS if setting.read_by == Reader.SERVICES}
    assert all(is_runtime(name) for name in passed) and not is_runtime("TRADEBOT_PROJECT")


def test_an_undeclared_variable_is_refused_naming_the_nearest_setting() -> None:
    refuse_unknown({"PATH": "/bin", "TRADEBOT_TICK_SECONDS": "1", "TRADEBOT_PROJECT": "tb"})
    with pytest.raises(UnknownSetting) as caught:
        refuse_unknown({"TRADEBOT_KEEP_RELEASE": "3"})
    assert caught.value.data == {"name": "TRADEBOT_KEEP_RELEASE", "nearest": "TRADEBOT_KEEP_RELEASES"}
    with pytest.raises(UnknownSetting) as caught:
        refuse_unknown({"TRADEBOT_X": "1"})
    assert caught.value.data["nearest"] == "" and not caught.value.hint.startswith("did you mean")


def test_shown_settings_mask_secrets_and_say_when_all_are_defaults() -> None:
    declared = {**DECLARED, "TRADEBOT_API_KEY": Declared("TRADEBOT_API_KEY", "", "a key", Reader.SERVICES, secret=True)}
    values = {"TRADEBOT_TICK_SECONDS": "0.2", "TRADEBOT_API_KEY": "s3cret"}
    assert shown(values, declared) == "TRADEBOT_API_KEY=***, TRADEBOT_TICK_SECONDS=0.2"
    assert shown({"TRADEBOT_API_KEY": ""}, declared) == "TRADEBOT_API_KEY="
    assert shown({}) == "the defaults"
