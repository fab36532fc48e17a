"""The CI release job: it lints clean, and every `invoke` line its steps run names tasks and options that exist."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from invoke import Collection
from invoke.parser import Parser

import tasks

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github/workflows/release.yml"
SHELL_OPERATORS = {">", ">>", "|", "&&", "||", ";", "2>", "2>&1"}


def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def steps() -> list[dict[str, Any]]:
    return [step for job in workflow()["jobs"].values() for step in job["steps"]]


def invoke_lines() -> list[list[str]]:
    """The argv after `invoke` of every line of every `run:` that calls it, cut at the first shell operator."""
    found = []
    for step in steps():
        for line in step.get("run", "").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0].endswith("bin/invoke"):
                cut = next((i for i, word in enumerate(words) if word in SHELL_OPERATORS), len(words))
                found.append(words[1:cut])
    return found


def actionlint(workflow: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on `workflow`, from the repository's root (it reads `.github/actionlint.yaml` there)."""
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert found, "actionlint is missing: ./bootstrap installs the dev extra"
    return subprocess.run([found, "-color=false", str(workflow)], cwd=ROOT, capture_output=True, text=True)


def test_actionlint_finds_nothing() -> None:
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_names_an_input_the_workflow_does_not_declare(tmp_path: Path) -> None:
    broken = tmp_path / "release.yml"
    broken.write_text(WORKFLOW.read_text().replace("inputs.revision }}", "inputs.revison }}"))
    result = actionlint(broken)
    assert result.returncode == 1 and 'property "revison" is not defined' in result.stdout, result.stdout


@pytest.mark.parametrize("argv", invoke_lines(), ids=lambda argv: " ".join(argv))
def test_every_invoke_line_names_tasks_and_options_that_exist(argv: list[str]) -> None:
    parsed = Parser(contexts=Collection.from_module(tasks).to_contexts()).parse_argv(argv)  # ParseError otherwise
    assert [context.name for context in parsed] == [argv[0]]  # one task per line; no value taken for a task


def test_the_job_releases_then_always_keeps_report_and_json() -> None:
    assert [line[:2] for line in invoke_lines()] == [
        ["release", "--json"],
        ["rollback", "--json"],
        ["report", "--html"],
        ["report", "--out"],
    ]
    upload = steps()[-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["if"] == "${{ always() }}"
    report = next(step for step in steps() if step.get("name") == "Report")
    assert report["if"] == "${{ always() }}" and report["continue-on-error"] is True


def test_pushes_to_main_and_dispatch_with_revision_and_action_start_it_one_at_a_time() -> None:
    found = workflow()
    triggers = found[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"revision", "action"}
    assert triggers["workflow_dispatch"]["inputs"]["action"]["options"] == ["release", "rollback"]
    assert found["concurrency"]["cancel-in-progress"] is False
    assert "TRADEBOT_PROJECT" in found["concurrency"]["group"]
    checkout = steps()[0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    assert any(step.get("run", "").strip() == "./bootstrap" for step in steps())
