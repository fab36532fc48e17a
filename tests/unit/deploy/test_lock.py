import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import lock
from deploy.errors import LockHeld

HOLD = (
    "import sys, time; from pathlib import Path; from deploy import lock\n"
    "with lock.held(Path(sys.argv[1]), 'deploy abc'):\n    print('held', flush=True); time.sleep(30)\n"
)


def test_a_second_holder_is_refused_with_the_first_ones_name_and_time(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld) as refused, lock.held(tmp_path, "deploy def"):
            pass
        assert f"pid {holder.pid}, deploy abc" in refused.value.holder
        assert refused.value.since.startswith("20")
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_free_again_after_the_block_and_after_its_process_died(tmp_path: Path) -> None:
    with lock.held(tmp_path, "one"):
        pass
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import os; from pathlib import Path; from deploy import lock\n"
            f"with lock.held(Path({str(tmp_path)!r}), 'x'): os._exit(9)",
        ],
        check=False,
    )
    with lock.held(tmp_path, "two"):
        assert f'"pid": {os.getpid()}' in (tmp_path / "deploy.lock").read_text()


def test_describe_survives_an_unreadable_holder_line() -> None:
    assert lock.describe("garbage") == ("another process", "an unknown time")
    line = lock.holder_line("deploy abc", 7, "2026-01-01T00:00:00+00:00", "op@host")
    assert lock.describe(line) == ("op@host (pid 7, deploy abc)", "2026-01-01T00:00:00+00:00")
