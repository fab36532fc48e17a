"""The policy file, and its rules on a running container's inspect data (the compose side: tests/process)."""

import pytest

from deploy.errors import ConfigError
from deploy.policy import posture, rules

PROJECT = "tb"
CLEAN = {
    "HostConfig": {
        "Privileged": False,
        "PidMode": "",
        "IpcMode": "private",
        "NetworkMode": "tb_default",
        "UTSMode": "",
        "CapAdd": None,
        "CapDrop": ["ALL"],
        "SecurityOpt": ["no-new-privileges:true"],
        "ReadonlyRootfs": True,
        "Devices": [],
        "PortBindings": {},
        "Tmpfs": {"/tmp": ""},
        "MaskedPaths": ["/proc/kcore", "/sys/firmware"],
    },
    "Mounts": [
        {
            "Type": "volume",
            "Name": "tb_state",
            "Source": "/var/lib/docker/volumes/tb_state/_data",
            "Destination": "/var/lib/tradebot",
        }
    ],
    "Config": {"User": "10001:10001"},
    "AppArmorProfile": "",
}


def failed(attrs: dict) -> dict[str, str]:
    checks = rules.judge("bot", posture.from_inspect(attrs), rules.load(), PROJECT)
    return {c.name: c.detail for c in rules.violations(checks)}


def changed(host: dict | None = None, **top: object) -> dict:
    return {**CLEAN, **top, "HostConfig": {**CLEAN["HostConfig"], **(host or {})}}


def test_the_deployed_settings_pass_every_rule() -> None:
    checks = rules.judge("bot", posture.from_inspect(CLEAN), rules.load(), PROJECT)
    assert len(checks) == 18 and all(c.ok for c in checks)


@pytest.mark.parametrize(
    ("attrs", "name", "detail"),
    [
        (changed({"Privileged": True}), "policy: privileged", "privileged: true"),
        (  # what the engine does to a privileged container is not named again
            changed({"Privileged": True, "MaskedPaths": [], "SecurityOpt": ["no-new-privileges", "label=disable"]}),
            "policy: privileged",
            "privileged: true",
        ),
        (changed({"PidMode": "host"}), "policy: pid", "pid: host"),
        (changed({"IpcMode": "host"}), "policy: ipc", "ipc: host"),
        (changed({"NetworkMode": "host"}), "policy: network_mode", "network_mode: host"),
        (changed({"UTSMode": "host"}), "policy: uts", "uts: host"),
        (
            changed(Mounts=[{"Type": "bind", "Source": "/", "Destination": "/host"}]),
            "policy: volumes",
            "bind / at /host",
        ),
        (
            changed(Mounts=[{"Type": "volume", "Name": "other_state", "Destination": "/v"}]),
            "policy: volumes",
            "volume other_state at /v",
        ),
        (changed({"CapAdd": ["CAP_SYS_ADMIN"]}), "policy: cap_add", "adds SYS_ADMIN"),
        (changed({"CapDrop": ["NET_RAW"]}), "policy: cap_drop", "drops NET_RAW, not ALL"),
        (changed({"SecurityOpt": []}), "policy: security_opt", "no-new-privileges is not set"),
        (
            changed({"SecurityOpt": ["no-new-privileges:true", "no-new-privileges=false"]}),
            "policy: security_opt",
            "no-new-privileges is false",
        ),
        (changed({"ReadonlyRootfs": False}), "policy: read_only", "root filesystem writable"),
        (
            changed({"Devices": [{"PathOnHost": "/dev/kmsg", "PathInContainer": "/dev/kmsg"}]}),
            "policy: devices",
            "/dev/kmsg",
        ),
        (changed(Config={"User": "0:0"}), "policy: user", "runs as 0:0 (0:0)"),
        (changed(Config={"User": "+0"}), "policy: user", "runs as +0 (0:?)"),
        (changed(Config={"User": "000:10001"}), "policy: user", "runs as 000:10001 (0:10001)"),
        (changed(Config={"User": "10001:0"}), "policy: user", "runs as 10001:0 (10001:0)"),
        (changed(Config={"User": "10001"}), "policy: user", "runs as 10001 (10001:?)"),
        (changed(Config={"User": "tradebot"}), "policy: user", "runs as tradebot, a name (the image's passwd decides)"),
        (changed({"IpcMode": "shareable"}), "policy: ipc", "ipc: shareable"),
        (changed({"PidMode": "container:abc"}), "policy: pid", "pid: container:abc"),
        (changed({"NetworkMode": "container:abc"}), "policy: network_mode", "network_mode: container:abc"),
        (changed({"NetworkMode": "none"}), "policy: network_mode", "network_mode: none"),
        (changed({"MaskedPaths": []}), "policy: systempaths", "systempaths=unconfined"),
        (
            changed({"SecurityOpt": ["no-new-privileges:true", 'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']}),
            "policy: seccomp",
            'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}',
        ),
        (changed({"SecurityOpt": ["no-new-privileges:true", "label=disable"]}), "policy: label", "label=disable"),
        (changed({"SecurityOpt": ["no-new-privileges:true", "disable"]}), "policy: label", "disable"),
        (
            changed({"SecurityOpt": ["no-new-privileges:true", "apparmor:docker-default"]}),
            "policy: apparmor",
            "apparmor:docker-default",
        ),
        (changed({"SecurityOpt": ["no-new-privileges:true", "foo=bar"]}), "policy: security_opt", "foo=bar"),
        (changed({"Tmpfs": {"/tmp": "exec"}}), "policy: tmpfs", "/tmp:exec"),
        (changed({"Tmpfs": {"/tmp": "", "/app": ""}}), "policy: tmpfs", "/app"),
        (changed({"Tmpfs": {"/tmp": "rw,noexec,nosuid,size=64m"}}), None, ""),
        (changed(Config={"User": ""}), "policy: user", "no user set (the image decides)"),
        (
            changed({"SecurityOpt": ["no-new-privileges", "seccomp:unconfined"]}),
            "policy: seccomp",
            "seccomp:unconfined",
        ),
        (changed(AppArmorProfile="unconfined"), "policy: apparmor", "apparmor=unconfined"),
        (
            changed({"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}}),
            "policy: ports",
            "published 8080:80/tcp",
        ),
    ],
)
def test_each_change_fails_exactly_its_setting(attrs: dict, name: str | None, detail: str) -> None:
    assert failed(attrs) == ({name: detail} if name else {})


def test_an_allowed_capability_may_be_added() -> None:
    declared = rules.parse(
        'volumes = ["state"]\ncapabilities = ["NET_BIND_SERVICE"]\nusers = ["10001:10001"]\n'
        'tmpfs = ["/tmp"]\n[require]\n'
    )
    attrs = changed({"CapAdd": ["NET_BIND_SERVICE"]})
    assert all(c.ok for c in rules.judge("bot", posture.from_inspect(attrs), declared, PROJECT))


def test_a_rule_switched_off_is_not_checked() -> None:
    declared = rules.parse("volumes = []\ncapabilities = []\nusers = []\n[require]\nnot_privileged = false\n")
    names = {c.name for c in rules.judge("bot", posture.from_inspect(changed({"Privileged": True})), declared, "tb")}
    assert "policy: privileged" not in names and "policy: pid" in names


@pytest.mark.parametrize(
    "text",
    [
        "volumes = [",
        "capabilities = []\nusers = []\n[require]\n",
        "volumes = []\ncapabilities = []\nusers = []\n[require]\nno_such_rule = true\n",
        'volumes = []\ncapabilities = []\nusers = []\n[services.bot]\ncommand = ["bot"]\n[require]\n',
    ],
)
def test_a_malformed_policy_is_a_named_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match=r"security policy|unknown rules"):
        rules.parse(text)


@pytest.mark.parametrize(
    ("volume", "detail"),
    [
        (
            {"Driver": "local", "Options": {"type": "none", "o": "bind", "device": "/"}},
            "volume tb_state binding the host's / at /var/lib/tradebot",
        ),
        (
            {"Driver": "local", "Options": {"type": "none", "o": "ro,rbind", "device": "/etc"}},
            "volume tb_state binding the host's /etc at /var/lib/tradebot",
        ),
        ({"Driver": "local", "Options": {"type": "nfs", "o": "addr=10.0.0.1,binder", "device": ":/x"}}, ""),
        (
            {"Driver": "local", "Options": {"type": "none", "o": "ro, bind", "device": "/etc"}},
            "volume tb_state binding the host's /etc at /var/lib/tradebot",
        ),
        ({"Driver": "local", "Options": {"type": "tmpfs", "o": "size=1m", "device": "tmpfs"}}, ""),
        ({"Driver": "local", "Options": None}, ""),
    ],
)
def test_the_declared_volume_binding_a_host_directory_is_a_host_mount(volume: dict, detail: str) -> None:
    """`o` is mount(8)'s option list: `bind` or `rbind` (of the local driver) makes it the host's directory."""
    checks = rules.judge("bot", posture.from_inspect(CLEAN, {"tb_state": volume}), rules.load(), PROJECT)
    assert {c.name: c.detail for c in rules.violations(checks)} == ({"policy: volumes": detail} if detail else {})
