"""The script verify runs inside each container, run here by this interpreter: what it lists and reports."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from deploy.engine import scripts
from deploy.engine.scripts import inside


def run(*args: str) -> dict[str, object]:
    """The script as verify runs it (`scripts.argv`), with this interpreter for the container's python3."""
    out = subprocess.run([sys.executable, *scripts.argv("inside", *args)[1:]], capture_output=True, check=True)
    return json.loads(out.stdout)


def test_it_reports_processes_the_write_probe_and_the_heartbeat_as_one_document(tmp_path: Path) -> None:
    beat = tmp_path / "bot.json"
    beat.write_text(json.dumps({"hostname": "h", "ticks": 3}))
    found = run(str(beat), str(tmp_path / "probe"))
    me = next(p for p in found["processes"] if p["pid"] == os.getpid())  # type: ignore[union-attr]
    assert (me["uid"] == os.geteuid() and "pytest" in me["args"]) or "-m" in me["args"]
    assert found["write"] == {"errno": 0, "error": ""} and not (tmp_path / "probe").exists()
    assert found["heartbeat"] == {"hostname": "h", "ticks": 3}


def test_a_refused_write_and_a_missing_heartbeat_are_reported_not_raised(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        found = inside.main([str(tmp_path / "none.json"), str(locked / "probe")])
    finally:
        locked.chmod(stat.S_IRWXU)
    if os.geteuid() != 0:  # root writes anywhere but on a read-only filesystem
        assert found["write"]["errno"] == errno.EACCES
        assert found["write"]["error"].endswith(f": {locked / 'probe'}")
    assert found["heartbeat"] is None and "No such file" in found["heartbeat_error"]


def test_processes_that_end_while_listed_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "12").mkdir()  # a pid whose files are gone
    (tmp_path / "13").mkdir()
    (tmp_path / "13" / "comm").write_text("python3\n")
    (tmp_path / "13" / "cmdline").write_bytes(b"python3\0-m\0trading\0bot\0")
    (tmp_path / "self").mkdir()
    assert inside.processes(str(tmp_path)) == [
        {"pid": 13, "uid": os.geteuid(), "comm": "python3", "args": "python3 -m trading bot"}
    ]
