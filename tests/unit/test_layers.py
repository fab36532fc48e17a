"""The architecture as contracts (pyproject.toml, `[tool.importlinter]`): deploy/'s layers import only downwards,
only the engine layer runs subprocesses and git, the bot never imports the pipeline, and the programs run inside
containers need only the standard library. import-linter reads every import statically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    ran = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-1000:]
    assert ran.stdout.count(" KEPT") == 4
