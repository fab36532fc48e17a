from typing import Any

from deploy.steps.health import FAILED, HEALTHY, WAITING, Verdict, probe_argv, verdict


def attrs(status: str = "running", health: str | None = "healthy", image: str = "sha256:a", **extra: Any) -> dict:
    state: dict[str, Any] = {"Status": status, "ExitCode": extra.pop("exit_code", 0)}
    if health:
        state["Health"] = {"Status": health, "Log": [{"Output": "heartbeat is 40.0s old (max 15.0s)\n"}]}
    return {"Image": image, "State": state, "RestartCount": extra.pop("restarts", 0)}


def test_a_running_healthy_container_of_the_image_is_healthy() -> None:
    assert verdict(attrs(), "sha256:a") == Verdict(HEALTHY)


def test_starting_is_waiting_with_the_last_probe() -> None:
    assert verdict(attrs(health="starting"), "sha256:a") == Verdict(WAITING, "heartbeat is 40.0s old (max 15.0s)")


def test_unhealthy_names_the_failing_probe() -> None:
    assert verdict(attrs(health="unhealthy"), "sha256:a") == Verdict(
        FAILED, "health check fails: heartbeat is 40.0s old (max 15.0s)"
    )


def test_an_exited_or_restarting_process_fails_at_once() -> None:
    assert verdict(attrs(status="exited", exit_code=3), "sha256:a").detail.startswith("its process exited with code 3")
    assert verdict(attrs(health="starting", restarts=2), "sha256:a").status == FAILED


def test_a_container_of_another_image_or_none_fails() -> None:
    assert verdict(attrs(image="sha256:b"), "sha256:a").status == FAILED
    assert verdict(None, "sha256:a") == Verdict(FAILED, "it has no container")
    assert verdict(attrs(health=None), "sha256:a").status == FAILED


def test_probe_argv_runs_the_health_check_command_as_docker_would() -> None:
    assert probe_argv(["CMD", "python3", "-m", "trading", "health"]) == ["python3", "-m", "trading", "health"]
    assert probe_argv(["CMD-SHELL", "test -f /x && true"]) == ["/bin/sh", "-c", "test -f /x && true"]
    assert probe_argv(["NONE"]) is None and probe_argv(None) is None and probe_argv([]) is None
