"""Every Python the pipeline starts in an image runs isolated (`python3 -I`).

Without `-I` the working directory (or the script's), `PYTHONPATH`, `PYTHONSTARTUP` and the user site
come first on the import path, and each of them can be a path the runtime user writes (issue 18, attack 1).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from deploy.engine import scripts

ROOT = Path(__file__).resolve().parents[3]


def argv_literals(tree: ast.AST) -> Iterator[tuple[int, list[str]]]:
    """`(line, its strings)` of every list display that starts with the string "python3" (an argv)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.List) and node.elts and isinstance(node.elts[0], ast.Constant):
            strings = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if node.elts[0].value == "python3":
                yield node.lineno, strings


def isolated(argv: list[str]) -> bool:
    return argv[:2] == ["python3", "-I"]


def test_every_python3_argv_in_the_pipeline_is_isolated() -> None:
    found = []
    for path in sorted((ROOT / "deploy").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        found += [f"{path.relative_to(ROOT)}:{line} {argv}" for line, argv in argv_literals(tree) if not isolated(argv)]
    assert found == []


def test_the_scan_finds_an_argv_without_the_flag() -> None:
    tree = ast.parse('run(["python3", "-m", "trading"]); ok = ["python3", "-I", "-c", SOURCE]; ["pip"]')
    assert sorted(isolated(argv) for _, argv in argv_literals(tree)) == [False, True]


def test_the_in_container_scripts_run_isolated() -> None:
    for name in ("inside", "probe", "statecopy"):
        argv = scripts.argv(name, "x")
        assert argv[:3] == ["python3", "-I", "-c"] and argv[4:] == ["x"], name


def dockerfile_json(instruction: str) -> list[str]:
    """The JSON argv of the Dockerfile's `instruction` (ENTRYPOINT, or HEALTHCHECK's CMD)."""
    text = (ROOT / "Dockerfile").read_text()
    (line,) = [line for line in text.splitlines() if line.startswith(instruction + " ")]
    return list(json.loads(re.search(r"\[.*\]", line).group(0)))  # type: ignore[union-attr]


def test_the_image_starts_python_isolated_from_the_read_only_root() -> None:
    assert dockerfile_json("ENTRYPOINT")[:4] == ["python3", "-I", "-m", "trading"]
    assert dockerfile_json("HEALTHCHECK")[:4] == ["python3", "-I", "-m", "trading"]
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert [line for line in lines if line.startswith("WORKDIR ")] == ["WORKDIR /"]
    assert not [line for line in lines if "PYTHON" in line and not line.lstrip().startswith("#")]


def test_the_compose_health_checks_run_python_isolated() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    tests = {name: service["healthcheck"]["test"] for name, service in services.items()}
    assert {name: test[:5] for name, test in tests.items()} == {
        name: ["CMD", "python3", "-I", "-m", "trading"] for name in services
    }
