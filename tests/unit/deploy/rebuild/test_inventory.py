"""The probe (run here on a temporary directory, as the helper container runs it) and the proofs."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from deploy.engine import scripts
from deploy.rebuild import inventory, triage
from tests.unit.deploy.rebuild.factories import item, real_layout


def probe(*args: str) -> str:
    """The probe as a helper runs it (`scripts.argv`), with this interpreter for the container's python3."""
    argv = [sys.executable, *scripts.argv("probe", *args)[1:]]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def make_tree(root: Path) -> None:
    (root / "workspace/logs").mkdir(parents=True)
    (root / "workspace/live_portfolio.json").write_text('{"cash": 1}')
    (root / "workspace/logs/bot.log").write_text("tick\n")
    (root / ".env").write_text("KEY=secret\n")
    (root / ".env").chmod(0o640)
    (root / "workspace/current").symlink_to("live_portfolio.json")


def test_the_inventory_names_every_entry_with_hash_size_mode_and_owner(tmp_path: Path) -> None:
    make_tree(tmp_path)
    found = inventory.parse(probe("inventory", str(tmp_path)))
    assert set(found) == {
        ".",
        ".env",
        "workspace",
        "workspace/logs",
        "workspace/logs/bot.log",
        "workspace/live_portfolio.json",
        "workspace/current",
    }
    portfolio = found["workspace/live_portfolio.json"]
    assert (portfolio.kind, portfolio.size, portfolio.uid) == ("file", 11, os.getuid())
    assert portfolio.sha256 == item("x", '{"cash": 1}').sha256
    assert found[".env"].mode == 0o640 and found["workspace"].kind == "dir"
    assert found["workspace/current"].kind == "link"


def test_the_copy_carries_the_plan_and_the_proof_holds(tmp_path: Path) -> None:
    source, target = tmp_path / "legacy", tmp_path / "state"
    source.mkdir(), target.mkdir()
    make_tree(source)
    layout = real_layout()
    layout = dataclasses.replace(
        layout, state_volume=dataclasses.replace(layout.state_volume, uid=os.getuid(), gid=os.getgid())
    )
    chosen = triage.make(inventory.parse(probe("inventory", str(source))), layout)
    expected = chosen.expected(layout)
    spec = {
        "source": str(source),
        "target": str(target),
        "uid": os.getuid(),
        "gid": os.getgid(),
        "dir_mode": 0o750,
        "files": [{"from": c.item.path, "to": c.to, "mode": expected[c.to].mode} for c in chosen.carried],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    probe("copy", str(tmp_path / "spec.json"))
    assert inventory.differences(expected, inventory.parse(probe("inventory", str(target)))) == []
    assert (target / ".env").stat().st_mode & 0o777 == 0o600


def test_differences_name_path_and_field_never_a_value() -> None:
    secret = item(".env", "KEY=1")
    changed = dataclasses.replace(secret, sha256="f" * 64, mode=0o600)
    found = inventory.differences({".env": secret, "a": item("a")}, {".env": changed, "b": item("b")})
    assert found == [".env: mode, sha256 differ", "a: missing", "b: extra"]
    assert inventory.differences({"a": item("a")}, {"a": item("a")}) == []
