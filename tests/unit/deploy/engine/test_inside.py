"""The program verify's side container runs, run here by this interpreter: what it reads from /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from deploy.engine import scripts
from deploy.engine.scripts import inside

STAT = "8 (python3 -I (x)) S 1 8 8 0 -1 4194560 1 0 0 0 5 1 0 0 20 0 2 0 553479 30000000 3000 rest\\n"
STATUS = """Name:\tpython3
State:\tS (sleeping)
Uid:\t10001\t10001\t10001\t10001
Gid:\t10001\t10001\t10001\t10001
Groups:\t10001
NoNewPrivs:\t1
Seccomp:\t2
CapEff:\t0000000000080000
"""
MAPS = """55d0c0000000-55d0c0100000 r--p 00000000 08:01 1 /usr/bin/python3.11
55d0c0100000-55d0c0400000 r-xp 00100000 08:01 1 /usr/bin/python3.11
7f0000000000-7f0000001000 r-xp 00000000 08:01 2 /var/lib/tradebot/a b.so
7f0000001000-7f0000002000 rw-s 00000000 08:01 3 /var/lib/tradebot/commands.sqlite3-shm
7f0000002000-7f0000003000 r-xp 00000000 00:00 0
7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0 [vdso]
"""
MOUNTINFO = """600 500 0:50 / / ro,relatime master:1 - overlay overlay rw,lowerdir=/l
601 600 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
602 600 8:1 /volumes/x/_data /var/lib/tradebot rw,relatime - ext4 /dev/sda1 rw
"""


def fake_proc(root: Path) -> Path:
    proc = root / "proc"
    (proc / "8").mkdir(parents=True)
    (proc / "8" / "stat").write_text(STAT)
    (proc / "8" / "status").write_text(STATUS)
    (proc / "8" / "maps").write_text(MAPS)
    (proc / "8" / "cmdline").write_bytes(b"python3\0-I\0-m\0trading\0bot\0")
    (proc / "8" / "exe").symlink_to("/usr/bin/python3.11")
    (proc / "9").mkdir()  # a process that ended while listed: its files are gone
    (proc / "1").mkdir()
    (proc / "1" / "mountinfo").write_text(MOUNTINFO)
    (proc / "uptime").write_text("5600.25 100.0\n")
    (proc / "self").mkdir()
    return proc


def test_the_kernel_s_facts_of_every_process_and_the_mounts(tmp_path: Path) -> None:
    found = inside.main(str(fake_proc(tmp_path)))
    assert found["uptime"] == 5600.25 and found["clk_tck"] == os.sysconf("SC_CLK_TCK")
    assert found["processes"] == [
        {
            "pid": 8,
            "ppid": 1,
            "state": "S",
            "start": 553479,
            "uid": [10001] * 4,
            "gid": [10001] * 4,
            "groups": [10001],
            "seccomp": 2,
            "no_new_privs": 1,
            "cap_eff": 1 << 19,
            "exe": "/usr/bin/python3.11",
            "executable": ["/usr/bin/python3.11", "/var/lib/tradebot/a b.so"],
            "cmdline": ["python3", "-I", "-m", "trading", "bot"],
        }
    ]
    assert found["mounts"] == [
        {"at": "/", "options": "ro,relatime", "type": "overlay"},
        {"at": "/proc", "options": "rw,nosuid,nodev,noexec,relatime", "type": "proc"},
        {"at": "/var/lib/tradebot", "options": "rw,relatime", "type": "ext4"},
    ]


def test_as_verify_runs_it_on_this_machine_s_proc_it_leaves_itself_out() -> None:
    """The script as the side container runs it (`scripts.argv`), with this interpreter for the image's python3."""
    with subprocess.Popen([sys.executable, *scripts.argv("inside")[1:]], stdout=subprocess.PIPE) as ran:
        out, _ = ran.communicate(timeout=60)
    assert ran.returncode == 0
    found = json.loads(out)
    me = next(p for p in found["processes"] if p["pid"] == os.getpid())
    assert me["ppid"] == os.getppid() and me["exe"] == os.path.realpath(f"/proc/{os.getpid()}/exe")
    assert (me["uid"][1] == os.geteuid() and me["cmdline"][:1] == [sys.executable]) or "pytest" in " ".join(
        me["cmdline"]
    )
    running_it = [p["pid"] for p in found["processes"] if p["cmdline"][1:4] == ["-I", "-c", scripts.source("inside")]]
    assert ran.pid not in running_it  # others may: a verify of a test on another worker, seen in this /proc
    assert any(m["at"] == "/" for m in found["mounts"])


def replace(path: Path, content: bytes) -> None:
    """Give `path` its new content in one step (a rename), never truncated first."""
    path.with_name(path.name + ".new").write_bytes(content)
    path.with_name(path.name + ".new").replace(path)


def test_a_process_the_runtime_is_still_starting_is_read_again_until_it_runs(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path)
    (proc / "8" / "cmdline").write_bytes(b"runc\0init\0")
    assert inside.main(str(proc), settle=0)["processes"][0]["cmdline"] == ["runc", "init"]  # it stays: as it is
    # written whole at once, as the kernel shows a new command line: a reader never sees an empty one
    starting = threading.Timer(0.2, replace, [proc / "8" / "cmdline", b"python3\0-I\0-m\0trading\0health\0"])
    starting.start()
    found = inside.main(str(proc), settle=10)
    assert found["processes"][0]["cmdline"] == ["python3", "-I", "-m", "trading", "health"]


def test_a_process_without_an_executable_or_with_the_runtimes_is_transitional_unless_a_zombie() -> None:
    assert inside.transitional({"exe": None, "state": "R", "cmdline": []})
    assert not inside.transitional({"exe": None, "state": "Z", "cmdline": []})
    # an exec caught mid-execve: its new command line, the runtime's executable still (a test named it a stranger)
    health = ["python3", "-I", "-m", "trading", "health", "--role", "bot"]
    assert inside.transitional({"exe": "/", "state": "R", "cmdline": health})
    assert not inside.transitional({"exe": "/usr/bin/python3.11", "state": "S", "cmdline": ["python3"]})
    # the other half of it: the new executable, no command line yet (CI: verify's own probe named a stranger)
    assert inside.transitional({"exe": "/usr/bin/python3.11", "state": "R", "cmdline": []})
    assert not inside.transitional({"exe": "/", "state": "Z", "cmdline": []})
