"""What runs in a service container, judged from the kernel's facts and the service process's own report."""

from __future__ import annotations

from deploy.verify import processes
from deploy.verify.processes import import_check, import_problems

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


def test_an_isolated_process_importing_image_code_only_passes() -> None:
    assert import_problems(CLEAN) == []
    assert import_check("bot", {"hostname": "h", "code": CLEAN}, "h").ok


def test_the_issue_s_json_in_the_state_volume_is_named_with_the_path_that_let_it_in() -> None:
    code = {
        "isolated": False,
        "sys_path": ["/var/lib/tradebot", *SYS_PATH],
        "modules": {**MODULES, "json": "/var/lib/tradebot/json/__init__.py"},
    }
    assert import_problems(code) == [
        "not isolated (python3 without -I)",
        "/var/lib/tradebot on sys.path",
        "json from /var/lib/tradebot/json/__init__.py",
    ]


def test_paths_that_only_look_like_image_roots_are_outside_it() -> None:
    code = {
        "isolated": True,
        "sys_path": ["/app/", "/application", "/usrx", "", "/tmp"],
        "modules": {"a": "/app/other.py", "b": "/app/tradingx/b.py", "c": "/tmp/c.py", "ns": ["/usr/lib/x", "/tmp/ns"]},
    }
    assert import_problems(code) == [
        "/app/ on sys.path",
        "/application on sys.path",
        "/usrx on sys.path",
        " on sys.path",
        "/tmp on sys.path",
        "a from /app/other.py",
        "b from /app/tradingx/b.py",
        "c from /tmp/c.py",
        "ns from /tmp/ns",
    ]


def test_a_report_without_import_facts_is_a_release_from_before_them() -> None:
    assert import_problems({"path": "/app/trading", "files": {}}) == [
        "its heartbeat reports no import path (a release from before isolated imports)"
    ]


def test_only_a_heartbeat_of_this_container_s_own_process_counts() -> None:
    stale = import_check("bot", {"hostname": "old", "code": CLEAN}, "new")
    assert not stale.ok and stale.detail == "the heartbeat is from host 'old', not this container (new)"
    assert import_check("bot", None, "new").detail == "no readable heartbeat"
    assert stale.name == processes.IMPORTS == "processes: import only from the image"


def test_many_problems_are_summed_up() -> None:
    code = {"isolated": True, "sys_path": [], "modules": {f"m{n}": f"/tmp/m{n}.py" for n in range(7)}}
    assert import_check("bot", {"hostname": "h", "code": code}, "h").detail.endswith("m4 from /tmp/m4.py and 2 more")
