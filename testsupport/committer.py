"""A writer that commits for ever, for the tests of a backup taken while it runs (a process, or a container).

`WRITER` is its program (`python3 -c WRITER STATE_DIR LOG`): each round it enqueues a command and replaces the
state file, then logs the command's id as committed; `committed(log)` reads the ids back.
"""

from __future__ import annotations

WRITER = """
import json, sys, time
from pathlib import Path
from trading.commandbus import CommandBus
from trading.store.atomic import replace_file
state = Path(sys.argv[1])
bus, log = CommandBus(state / "commands.sqlite3"), open(sys.argv[2], "a", buffering=1)
n = 0
while True:
    n += 1
    row = bus.enqueue("noop", {"n": n}, "c", f"k{n}", time.time() + 60)
    replace_file(state / "live_portfolio.json", json.dumps({"n": n, "pad": "x" * 50000}).encode(), durable=False)
    log.write(f"{row['id']}\\n")
"""


def committed(log: str) -> set[int]:
    """The ids the writer logged as committed; the last line may be torn."""
    return {int(line) for line in log.splitlines()[:-1] if line.isdigit()}
