"""What a service runs, judged on a running container against its image (the compose side: tests/process)."""

import pytest

from deploy.policy import rules, shape

LIVE = "sha256:" + "1" * 64
ID = "c0ffee" + "0" * 58
IMAGE = {
    "Config": {
        "Entrypoint": ["python3", "-I", "-m", "trading"],
        "Cmd": ["bot"],
        "WorkingDir": "/var/lib/tradebot",
        "Env": ["PATH=/usr/bin:/bin", "PYTHONPATH=/app"],
        "Labels": {"io.tradebot.code.digest": "d"},
    }
}
CLEAN = {
    "Id": ID,
    "Image": LIVE,
    "Config": {
        "Hostname": ID[:12],
        "Entrypoint": ["python3", "-I", "-m", "trading"],
        "Cmd": ["bot"],
        "WorkingDir": "/var/lib/tradebot",
        "Env": ["PATH=/usr/bin:/bin", "PYTHONPATH=/app", "TRADEBOT_ROLE=bot"],
        "Healthcheck": {"Test": ["CMD", "python3", "-I", "-m", "trading", "health", "--role", "bot"]},
        "Labels": {"io.tradebot.code.digest": "d", "com.docker.compose.service": "bot"},
    },
    "HostConfig": {"Init": True, "Runtime": "runc", "CgroupnsMode": "host", "UsernsMode": "", "NetworkMode": "p_x"},
}


def failed(attrs: dict, service: str = "bot") -> dict[str, str]:
    found = shape.judge(service, shape.from_inspect(attrs, IMAGE, "host"), rules.load(), LIVE)
    return {c.name: c.detail for c in rules.violations(found)}


def changed(config: dict | None = None, host: dict | None = None, **top: object) -> dict:
    return {
        **CLEAN,
        **top,
        "Config": {**CLEAN["Config"], **(config or {})},
        "HostConfig": {**CLEAN["HostConfig"], **(host or {})},
    }


def test_a_container_of_the_declared_service_as_its_image_runs_it_passes() -> None:
    found = shape.judge("bot", shape.from_inspect(CLEAN, IMAGE, "host"), rules.load(), LIVE)
    assert len(found) == 8 and all(c.ok for c in found)


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        (changed(Image="sha256:" + "2" * 64), {"policy: image": f"runs sha256:{'2' * 64}, not {LIVE}"}),
        (
            changed({"Entrypoint": ["sh", "-c", "python3 -c $X & exec python3 -I -m trading", "--"]}),
            {
                "policy: entrypoint": "entrypoint ['sh', '-c', 'python3 -c $X & exec python3 -I -m trading', '--'] "
                "replaces the image's"
            },
        ),
        (changed({"Cmd": ["sh"]}), {"policy: command": "command ['sh'], declared ['bot']"}),
        (changed({"WorkingDir": "/tmp"}), {"policy: working_dir": "working_dir /tmp"}),
        (changed({"Healthcheck": {"Test": ["NONE"]}}), {"policy: healthcheck": "disabled"}),
        (
            changed({"Env": [*CLEAN["Config"]["Env"], "PYTHONPATH=/var/lib/tradebot", "LD_PRELOAD=/x.so"]}),
            {"policy: environment": "LD_PRELOAD, PYTHONPATH"},
        ),
        (changed(host={"Init": False}), {"policy: init": "init is not true"}),
        (
            changed({"Labels": {**CLEAN["Config"]["Labels"], "io.tradebot.helper-of": "p"}}),
            {"policy: labels": "io.tradebot.helper-of"},
        ),
        (changed(host={"UsernsMode": "host"}), {"policy: userns_mode": "userns_mode is not allowed"}),
        (changed(host={"CgroupnsMode": "private"}), {}),  # safer than the v1 default
        (changed(host={"Sysctls": {"net.core.somaxconn": "1024"}}), {"policy: sysctls": "sysctls is not allowed"}),
        (changed(host={"Runtime": "runsc"}), {"policy: runtime": "runtime is not allowed"}),
        (changed(host={"GroupAdd": ["0"]}), {"policy: group_add": "group_add is not allowed"}),
        (changed(host={"VolumesFrom": ["bot"]}), {"policy: volumes_from": "volumes_from is not allowed"}),
        (changed({"Hostname": "bot"}), {"policy: hostname": "hostname is not allowed"}),
        (changed({"Hostname": "the-host"}, {"NetworkMode": "host"}), {}),  # `policy: network_mode` names it
    ],
)
def test_each_change_fails_exactly_its_setting(attrs: dict, expected: dict[str, str]) -> None:
    assert failed(attrs) == expected


def test_the_host_cgroup_namespace_is_named_where_it_is_not_the_engines_default() -> None:
    found = shape.from_inspect(changed(host={"CgroupnsMode": "host"}), IMAGE, cgroupns_default="private")
    assert found.settings == ("cgroup",)


def test_a_service_the_policy_does_not_declare_fails_its_command_and_health_check() -> None:
    assert failed(CLEAN, service="evil") == {
        "policy: command": "not a declared service",
        "policy: healthcheck": "not a declared service",
    }


def test_from_compose_reads_the_settings_used_beyond_the_judged_ones_from_both_views() -> None:
    service = {"image": "p:live", "command": ["bot"], "entrypoint": None, "sysctls": {"a": "1"}, "x-note": 1}
    found = shape.from_compose(service, {**service, "env_file": [{"path": "/etc/shadow"}]})
    assert (found.entrypoint, found.settings) == (None, ("env_file", "sysctls"))
    assert shape.from_compose({"healthcheck": {"test": ["CMD", "x"], "disable": True}}).healthcheck == ("NONE",)
