from pathlib import Path

from deploy.engine.baseimage import BasePlan, debootstrap_argv, plan_base, slim_root


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
