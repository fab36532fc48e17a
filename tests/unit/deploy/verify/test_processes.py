"""What runs in a service container, judged from the kernel's facts and the service process's own report.

The facts are shaped as a real side container read them beside a real bot (`deploy.engine.scripts.inside`).
"""

from __future__ import annotations

import copy
from typing import Any

from deploy.engine import scripts
from deploy.verify import processes
from deploy.verify.processes import Expected, import_problems

SERVICE = ["python3", "-I", "-m", "trading", "bot"]
HEALTH = ["python3", "-I", "-m", "trading", "health", "--role", "bot"]
SIDECAR = scripts.argv("inside")
RUNTIME = [10001] * 4
ATTRS: dict[str, Any] = {
    "Config": {
        "Entrypoint": ["python3", "-I", "-m", "trading"],
        "Cmd": ["bot"],
        "Hostname": "c0ffee",
        "Healthcheck": {"Test": ["CMD", *HEALTH], "Timeout": 5_000_000_000},
    },
    "HostConfig": {"Init": True},
}
PYTHON_MAPS = ["/usr/bin/python3.11", "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so"]


def proc(pid: int, ppid: int, cmdline: list[str], **facts: Any) -> dict[str, Any]:
    """A process as the side container reads it: the runtime user's, confined, 10 s old unless told."""
    exe = "/usr/sbin/docker-init" if pid == 1 else "/usr/bin/python3.11"
    found = {"pid": pid, "ppid": ppid, "state": "S", "start": 9000, "uid": RUNTIME, "gid": RUNTIME}
    found |= {"groups": [10001], "seccomp": 2, "no_new_privs": 1, "cap_eff": 0, "exe": exe}
    found |= {"executable": [exe] if pid == 1 else PYTHON_MAPS, "cmdline": cmdline}
    return found | facts


MOUNTS = [
    {"at": "/", "options": "ro,relatime", "type": "overlay"},
    {"at": "/proc", "options": "rw,nosuid,nodev,noexec,relatime", "type": "proc"},
    {"at": "/usr/sbin/docker-init", "options": "ro,relatime", "type": "ext4"},
    {"at": "/tmp", "options": "rw,nosuid,nodev,noexec,relatime", "type": "tmpfs"},
    {"at": "/var/lib/tradebot", "options": "rw,relatime", "type": "ext4"},
]
FACTS: dict[str, Any] = {
    "clk_tck": 100,
    "uptime": 100.0,  # a process started at tick 9000 is 10 s old
    "processes": [proc(1, 0, ["/sbin/docker-init", "--", *SERVICE]), proc(8, 1, SERVICE)],
    "mounts": MOUNTS,
    "sidecar": SIDECAR,
}
SYS_PATH = [
    "/usr/lib/python311.zip",
    "/usr/lib/python3.11",
    "/usr/lib/python3.11/lib-dynload",
    "/usr/local/lib/python3.11/dist-packages",
    "/app",
    "/usr/lib/python3/dist-packages",
]
MODULES = {
    "sys": "built-in",
    "json": "/usr/lib/python3.11/json/__init__.py",
    "_json": "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
    "trading": "/app/trading/__init__.py",
    "trading.__main__": "/app/trading/__main__.py",
    "typing.io": "in memory",
    "zipimport": "frozen",
}
CLEAN = {"isolated": True, "sys_path": SYS_PATH, "modules": MODULES}
BEAT = {"hostname": "c0ffee", "code": CLEAN}


def judged(facts: dict[str, Any] = FACTS, beat: Any = BEAT, attrs: dict[str, Any] = ATTRS) -> dict[str, Any]:
    return {c.name: c for c in processes.checks("bot", attrs, facts, beat)}


def failed(facts: dict[str, Any] = FACTS, beat: Any = BEAT, attrs: dict[str, Any] = ATTRS) -> dict[str, str]:
    return {name: c.detail for name, c in judged(facts, beat, attrs).items() if not c.ok}


def with_processes(*more: dict[str, Any]) -> dict[str, Any]:
    return {**FACTS, "processes": [*FACTS["processes"], *more]}


def test_a_clean_bot_passes_every_check() -> None:
    assert list(judged()) == list(processes.NAMES)
    assert failed() == {}


def test_what_the_engine_says_should_run() -> None:
    expected = Expected.of(ATTRS, SIDECAR)
    assert expected == Expected(tuple(SERVICE), True, tuple(HEALTH), 5.0, tuple(SIDECAR))
    shell = {**ATTRS, "Config": {**ATTRS["Config"], "Healthcheck": {"Test": ["CMD-SHELL", "true"]}}}
    assert (Expected.of(shell, SIDECAR).health, Expected.of(shell, SIDECAR).health_timeout) == (None, 30.0)


def test_a_process_exec_d_beside_the_bot_is_named() -> None:
    """Issue 18, attack 6: `docker exec -d bot python3 -c …` runs beside the bot, confined like it."""
    found = failed(with_processes(proc(41, 0, ["python3", "-c", "import time; time.sleep(60)"], start=9700)))
    assert found == {
        processes.ACCOUNTED: "pid 41 python3 -c import time; time.sleep(60) (exec'd, 3s old, uid 10001, "
        "exe /usr/bin/python3.11)"
    }


def test_a_health_check_counts_while_younger_than_its_timeout() -> None:
    assert failed(with_processes(proc(50, 0, HEALTH, start=9500))) == {}  # 5 s old: timeout 5 s + grace
    old = failed(with_processes(proc(50, 0, HEALTH, start=9000)))  # 10 s old: a look-alike daemon
    assert old == {processes.ACCOUNTED: "pid 50 python3 -I -m trading health --role bot (exec'd, 10s old, uid 10001, "
                   "exe /usr/bin/python3.11)"}  # fmt: skip
    elsewhere = failed(with_processes(proc(50, 0, HEALTH, start=9500, exe="/var/lib/tradebot/python3")))
    assert list(elsewhere) == [processes.ACCOUNTED]


def test_another_verify_s_side_container_is_accounted_for_and_not_judged_as_the_runtime_user() -> None:
    sidecar = proc(60, 0, SIDECAR, uid=[0] * 4, gid=[0] * 4, groups=[], cap_eff=processes.SYS_PTRACE)
    assert failed(with_processes(sidecar)) == {}
    lingering = {**sidecar, "start": 9000 - 100 * 100}  # 110 s old: no verify lives that long
    assert set(failed(with_processes(lingering))) == {processes.ACCOUNTED, processes.CONFINED, processes.NON_ROOT}
    mightier = {**sidecar, "cap_eff": processes.SYS_PTRACE | 1}
    assert set(failed(with_processes(mightier))) == {processes.ACCOUNTED, processes.CONFINED, processes.NON_ROOT}


def test_a_privileged_root_exec_is_named_unaccounted_and_unconfined() -> None:
    """Issue 18, attack 6: `docker exec -d --privileged -u 0 bot sleep 60`."""
    root = proc(70, 0, ["sleep", "60"], uid=[0] * 4, gid=[0] * 4, groups=[0, 1], cap_eff=0x3FFFFFFFFF, seccomp=0)
    root |= {"no_new_privs": 0, "exe": "/usr/bin/sleep", "executable": ["/usr/bin/sleep"]}
    assert failed(with_processes(root)) == {
        processes.NON_ROOT: "root runs pid 70 sleep 60",
        processes.ACCOUNTED: "pid 70 sleep 60 (exec'd, 10s old, uid 0, exe /usr/bin/sleep)",
        processes.CONFINED: "pid 70 sleep 60: uid 0/0/0/0 gid 0/0/0/0, groups 0 1, capabilities 0x3fffffffff, "
        "no seccomp filter, no_new_privs off",
    }


def test_a_service_process_running_as_root_is_named() -> None:
    facts = copy.deepcopy(FACTS)
    for process in facts["processes"]:  # the container's user is root
        process |= {"uid": [0, 0, 0, 0], "gid": [0, 0, 0, 0], "cap_eff": 1 << 1}
    found = failed(facts)
    assert (
        found[processes.NON_ROOT]
        == "root runs pid 1 /sbin/docker-init -- python3 -I -m trading bot; root runs pid 8 python3 -I -m trading bot"
    )
    assert found[processes.CONFINED].endswith(
        "pid 8 python3 -I -m trading bot: uid 0/0/0/0 gid 0/0/0/0, capabilities 0x2"
    )
    assert processes.runs_as_root(facts, Expected.of(ATTRS, SIDECAR))
    root_exec = proc(70, 0, ["sleep", "60"], uid=[0] * 4)
    assert not processes.runs_as_root(with_processes(root_exec), Expected.of(ATTRS, SIDECAR))  # its user is not root


def test_the_service_process_must_run_once_from_an_image_executable() -> None:
    gone = {**FACTS, "processes": FACTS["processes"][:1]}
    assert failed(gone) == {
        processes.ACCOUNTED: "0 processes run `python3 -I -m trading bot` as the service (1 should)"
    }
    assert failed({**FACTS, "processes": []})[processes.NON_ROOT] == "no process runs"
    twice = failed(with_processes(proc(9, 1, SERVICE)))
    assert twice == {processes.ACCOUNTED: "2 processes run `python3 -I -m trading bot` as the service (1 should)"}
    dropped = copy.deepcopy(FACTS)
    dropped["processes"][1]["exe"] = "/var/lib/tradebot/python3"
    assert set(failed(dropped)) == {processes.ACCOUNTED}


def test_an_init_running_another_command_is_named() -> None:
    facts = copy.deepcopy(FACTS)
    facts["processes"][0]["cmdline"] = ["/sbin/docker-init", "--", "sh", "-c", 'python3 -c "$X" & exec python3']
    assert list(failed(facts)) == [processes.ACCOUNTED]


def test_without_init_the_service_process_is_pid_1() -> None:
    attrs = {**ATTRS, "HostConfig": {"Init": False}}
    mounts = [m for m in MOUNTS if m["at"] != "/usr/sbin/docker-init"]
    alone = {**FACTS, "processes": [proc(1, 0, SERVICE)], "mounts": mounts}
    assert failed(alone, attrs=attrs) == {}
    with_init = failed(attrs=attrs)  # an init nobody asked for: a stranger, its child no service, its binary mounted
    assert set(with_init) == {processes.ACCOUNTED, processes.IMPORTS}
    assert with_init[processes.IMPORTS] == "/usr/sbin/docker-init is a mount point"


def test_a_zombie_runs_nothing_and_is_not_judged() -> None:
    zombie = proc(80, 0, [], state="Z", uid=[0] * 4, exe=None, executable=[])
    assert failed(with_processes(zombie)) == {}


def test_a_writable_root_is_named_from_the_kernel_s_mounts() -> None:
    facts = {**FACTS, "mounts": [{"at": "/", "options": "rw,relatime", "type": "overlay"}, *MOUNTS[1:]]}
    assert failed(facts) == {processes.ROOT_READ_ONLY: "/ mounted rw,relatime"}


def test_executable_files_and_mounts_outside_the_image_are_named() -> None:
    facts = copy.deepcopy(FACTS)
    facts["processes"][1]["executable"].append("/var/lib/tradebot/evil.so")
    facts["processes"][1]["executable"].append("/memfd:x (deleted)")
    facts["mounts"].append({"at": "/usr/lib/python3.11/json", "options": "rw", "type": "ext4"})
    facts["mounts"].append({"at": "/app", "options": "rw", "type": "ext4"})
    assert failed(facts) == {
        processes.IMPORTS: "pid 8 maps /var/lib/tradebot/evil.so; pid 8 maps /memfd:x (deleted); "
        "/usr/lib/python3.11/json is a mount point; /app is a mount point"
    }


def test_an_isolated_process_importing_image_code_only_passes() -> None:
    assert import_problems(CLEAN) == []


def test_the_issue_s_json_in_the_state_volume_is_named_with_the_path_that_let_it_in() -> None:
    code = {
        "isolated": False,
        "sys_path": ["/var/lib/tradebot", *SYS_PATH],
        "modules": {**MODULES, "json": "/var/lib/tradebot/json/__init__.py"},
    }
    assert failed(beat={"hostname": "c0ffee", "code": code}) == {
        processes.IMPORTS: "not isolated (python3 without -I); /var/lib/tradebot on sys.path; "
        "json from /var/lib/tradebot/json/__init__.py"
    }


def test_paths_that_only_look_like_image_roots_are_outside_it() -> None:
    code = {
        "isolated": True,
        "sys_path": ["/app/", "/application", "/usrx", "", "/tmp", "/usr/../var/lib/tradebot"],
        "modules": {"a": "/app/other.py", "b": "/app/tradingx/b.py", "c": "/usr/lib/../../tmp/c.py", "ns": ["/tmp/ns"]},
    }
    assert import_problems(code) == [
        "/application on sys.path",
        "/usrx on sys.path",
        " on sys.path",
        "/tmp on sys.path",
        "/usr/../var/lib/tradebot on sys.path",
        "a from /app/other.py",
        "b from /app/tradingx/b.py",
        "c from /usr/lib/../../tmp/c.py",
        "ns from /tmp/ns",
    ]


def test_a_report_without_import_facts_is_a_release_from_before_them() -> None:
    assert import_problems({"path": "/app/trading", "files": {}}) == [
        "its heartbeat reports no import path (a release from before isolated imports)"
    ]


def test_only_a_heartbeat_of_this_container_s_own_process_counts() -> None:
    assert failed(beat={"hostname": "old", "code": CLEAN}) == {
        processes.IMPORTS: "the heartbeat is from host 'old', not this container (c0ffee)"
    }
    assert failed(beat=None) == {processes.IMPORTS: "no readable heartbeat"}
    starting = {"hostname": "c0ffee", "stage": "configured"}  # written before the first tick
    assert failed(beat=starting) == {processes.IMPORTS: "its heartbeat reports no code yet (stage configured)"}


def test_many_problems_are_summed_up() -> None:
    code = {"isolated": True, "sys_path": [], "modules": {f"m{n}": f"/tmp/m{n}.py" for n in range(7)}}
    assert failed(beat={"hostname": "c0ffee", "code": code})[processes.IMPORTS].endswith(
        "m4 from /tmp/m4.py and 2 more"
    )
