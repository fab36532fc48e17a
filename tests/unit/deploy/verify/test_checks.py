import copy

import pytest

from deploy.verify import processes
from deploy.verify.checks import (
    CODE_OWNER,
    code_owner_check,
    inside_checks,
    inside_failed,
    inspect_checks,
    is_docker_socket,
    overlaps_code_path,
    running_check,
)
from tests.unit.deploy.verify.test_processes import ATTRS, BEAT, FACTS

LIVE = "sha256:" + "a" * 64
STATE_MOUNT = {"Type": "volume", "Name": "p_state", "Source": "/x/_data", "Destination": "/var/lib/tradebot"}


def attrs(**changes: object) -> dict:
    base = {
        "Image": LIVE,
        "HostConfig": {"ReadonlyRootfs": True},
        "Mounts": [STATE_MOUNT],
        "State": {"Status": "running", "Running": True, "Health": {"Status": "healthy"}},
    }
    return {**base, **changes}


def failed(checks: list) -> list[str]:
    return [c.name for c in checks if not c.ok]


@pytest.mark.parametrize("dest", ["/app/trading", "/app/trading/", "/app", "/app/trading/strategy"])
def test_mounts_at_above_or_below_the_code_path_overlap_it(dest: str) -> None:
    assert overlaps_code_path(dest)


@pytest.mark.parametrize("dest", ["/var/lib/tradebot", "/app/trading2", "/tmp", "/ap"])
def test_other_mounts_do_not_overlap_the_code_path(dest: str) -> None:
    assert not overlaps_code_path(dest)


def test_the_docker_socket_is_recognised_at_either_end_of_a_mount() -> None:
    assert is_docker_socket({"Source": "/var/run/docker.sock", "Destination": "/sock"})
    assert is_docker_socket({"Source": "/elsewhere", "Destination": "/run/docker.sock"})
    assert not is_docker_socket(STATE_MOUNT)


def test_a_clean_container_passes_every_inspect_check() -> None:
    assert failed(inspect_checks("bot", attrs(), LIVE)) == []


def test_another_image_a_writable_root_and_no_health_fail_by_name() -> None:
    bad = attrs(Image="sha256:" + "b" * 64, HostConfig={"ReadonlyRootfs": False}, State={"Running": True})
    checks = inspect_checks("worker", bad, LIVE)
    assert failed(checks) == ["runs the live image", "read-only root filesystem", "healthy"]
    assert next(c for c in checks if c.name == "healthy").detail == "no healthcheck"


def test_a_volume_over_the_code_path_and_a_socket_mount_are_named() -> None:
    code = {"Type": "volume", "Name": "shadow", "Destination": "/app/trading"}
    sock = {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock"}
    checks = inspect_checks("bot", attrs(Mounts=[STATE_MOUNT, code, sock]), LIVE)
    details = {c.name: c.detail for c in checks if not c.ok}
    assert details == {
        "no mount over or under /app/trading": "volume shadow at /app/trading",
        "no Docker socket mounted": "bind /var/run/docker.sock at /var/run/docker.sock",
    }


def test_the_inside_is_judged_on_the_processes_and_the_code_s_owners() -> None:
    clean = inside_checks("bot", ATTRS, FACTS, BEAT, [("/app/trading", 0, 0, 0o775)])
    assert [c.name for c in clean] == [*processes.NAMES, CODE_OWNER] and all(c.ok for c in clean)
    root = copy.deepcopy(FACTS)
    root["processes"][1]["uid"] = [0, 0, 0, 0]
    judged = {c.name: c for c in inside_checks("bot", ATTRS, root, BEAT, [("/app/trading", 0, 0, 0o775)])}
    assert not judged[CODE_OWNER].ok  # root writes what it owns
    assert not judged[processes.NON_ROOT].ok


def test_an_inside_that_could_not_be_read_fails_its_checks_naming_why() -> None:
    failed = inside_failed("worker", "cannot join the PID namespace of a stopped container")
    assert [c.name for c in failed] == [*processes.NAMES, CODE_OWNER] and not any(c.ok for c in failed)
    assert {c.detail for c in failed} == {"could not look inside: cannot join the PID namespace of a stopped container"}


def test_code_must_be_root_owned_and_not_writable_by_the_processes_users() -> None:
    clean = [("/app/trading", 0, 0, 0o755), ("/app/trading/bot.py", 0, 0, 0o664), ("/app/trading/run", 0, 0, 0o700)]
    assert code_owner_check("bot", clean, runs_as_root=False).ok  # group-writable by root's group: root only
    assert not code_owner_check("bot", clean, runs_as_root=True).ok  # root may write whatever it owns
    bad = [("/app/trading", 10001, 0, 0o755), ("/app/trading/a.py", 0, 10001, 0o664)]
    bad.append(("/app/trading/b.py", 0, 0, 0o646))
    found = code_owner_check("bot", [*bad, *clean], runs_as_root=False)
    assert not found.ok
    assert found.detail == "10001:0 755 /app/trading, 0:10001 664 /app/trading/a.py, 0:0 646 /app/trading/b.py"
    many = code_owner_check("bot", [(f"/app/trading/m{n}.py", 0, 0, 0o646) for n in range(7)], False)
    assert many.detail.endswith("/app/trading/m4.py and 2 more")


def test_starting_counts_as_healthy_only_when_the_probe_just_passed() -> None:
    starting = {"Image": "sha256:a", "HostConfig": {"ReadonlyRootfs": True}, "Mounts": []}
    starting["State"] = {"Health": {"Status": "starting"}}
    by_probe = {
        probed: next(c for c in inspect_checks("bot", starting, "sha256:a", probed) if c.name == "healthy")
        for probed in (True, False)
    }
    assert by_probe[True].ok and not by_probe[False].ok
    assert by_probe[False].detail == "starting, probe failed"
    unhealthy = {**starting, "State": {"Health": {"Status": "unhealthy"}}}
    assert not next(c for c in inspect_checks("bot", unhealthy, "sha256:a", True) if c.name == "healthy").ok


def test_a_restarting_container_fails_running_with_its_exit_code_and_restarts() -> None:
    assert running_check("bot", attrs()).ok
    looping = attrs(State={"Status": "restarting", "ExitCode": 1}, RestartCount=5)
    check = running_check("worker", looping)
    assert not check.ok
    assert check.failure() == "worker fails 'running' (restarting, exit code 1, restarted 5 times)"


def test_a_crash_loop_seen_between_two_restarts_fails_running() -> None:
    between = attrs(State={"Status": "running", "ExitCode": 0}, RestartCount=2)
    check = running_check("worker", between)
    assert not check.ok
    assert check.detail == "running, exit code 0, restarted 2 times"
