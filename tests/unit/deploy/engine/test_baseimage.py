from pathlib import Path

import pytest

from deploy.engine.baseimage import BasePlan, debootstrap_argv, plan_base, slim_root
from deploy.engine.runner import Runner
from deploy.errors import CommandFailed


def test_configured_base_is_used_as_given_and_never_replaced_offline() -> None:
    assert plan_base("registry.local/python:3.12", set()) == BasePlan("registry.local/python:3.12", False, False)
    assert plan_base("my:base", {"my:base"}) == BasePlan("my:base", True, False)


def test_default_prefers_the_standard_python_image() -> None:
    present = {"python:3.11-slim", "tradebot-base:bookworm"}
    assert plan_base(None, present) == BasePlan("python:3.11-slim", True, False)


def test_default_uses_the_offline_base_when_it_is_the_only_one() -> None:
    assert plan_base(None, {"tradebot-base:bookworm"}) == BasePlan("tradebot-base:bookworm", True, False)


def test_default_with_nothing_present_pulls_then_falls_back_offline() -> None:
    assert plan_base(None, set()) == BasePlan("python:3.11-slim", False, True)


def test_debootstrap_makes_a_minimal_root_with_python_and_procps(tmp_path: Path) -> None:
    argv = debootstrap_argv(tmp_path / "root")
    assert argv == ["debootstrap", "--variant=minbase", "--include=python3,procps", "bookworm", str(tmp_path / "root")]


def test_slim_root_drops_apt_caches_and_adds_python(tmp_path: Path) -> None:
    for folder in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/bin"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "var/cache/apt/archives/x.deb").write_bytes(b"deb")
    (tmp_path / "var/lib/apt/lists/mirror_Packages").write_text("list")
    slim_root(tmp_path)
    assert not list((tmp_path / "var/cache/apt/archives").iterdir())
    assert not list((tmp_path / "var/lib/apt/lists").iterdir())
    assert (tmp_path / "usr/bin/python").readlink() == Path("python3")


def test_a_logged_command_writes_both_streams_to_its_log_and_fails_naming_no_output(tmp_path: Path) -> None:
    log = tmp_path / "debootstrap.log"
    log.write_text("first\n")
    Runner().run(["sh", "-c", "echo out; echo err >&2"], log=log)
    assert log.read_text() == "first\nout\nerr\n"
    with pytest.raises(CommandFailed) as caught:
        Runner().run(["sh", "-c", "echo dying; exit 3"], log=log)
    assert log.read_text().endswith("dying\n") and "exited 3: no output" in caught.value.message
