"""Every listing of containers in the pipeline survives a container removed while it is listed.

docker-py's `containers.list()` lists, then inspects each container found; one removed in between (another
command's helper, a verify's side container, a killed command's helper whose removal the engine finishes)
raised `NotFound` and ended the command with a traceback (CI: `invoke deploy`'s sweep of helpers, `status`
after a killed rollback). A listing asks `ignore_removed=True`, or `sparse=True` (no inspect at all).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SAFE = ("ignore_removed", "sparse")


def listings(tree: ast.AST) -> Iterator[tuple[int, bool]]:
    """`(line, whether it is safe)` of every call of `<something>.containers.list(…)`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "list":
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "containers":
                safe = any(
                    k.arg in SAFE and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords
                )
                yield node.lineno, safe


def test_every_container_listing_of_the_pipeline_survives_a_removal() -> None:
    found = []
    for path in sorted((ROOT / "deploy").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        found += [f"{path.relative_to(ROOT)}:{line}" for line, safe in listings(tree) if not safe]
    assert found == []


def test_the_scan_tells_a_listing_that_would_raise() -> None:
    tree = ast.parse(
        "e.containers.list(all=True); e.containers.list(ignore_removed=True); "
        "e.containers.list(sparse=True); e.containers.list(ignore_removed=False); e.images.list()"
    )
    assert sorted(safe for _, safe in listings(tree)) == [False, False, True, True]
