"""The CI workflow: it lints clean, tests before it releases, and every `invoke` or `tradebot` line names tasks and
options that exist."""

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


def steps(job: str = "") -> list[dict[str, Any]]:
    jobs = workflow()["jobs"]
    return [step for name, found in jobs.items() if name == job or not job for step in found["steps"]]


def invoke_lines() -> list[list[str]]:
    """The argv after `invoke` or `tradebot` of each `run:` line calling one, cut at the first shell operator."""
    found = []
    for step in steps():
        for line in step.get("run", "").splitlines():
            if not line.lstrip().startswith(".venv/bin/"):
                continue
            words = shlex.split(line, comments=True)
            if words and words[0].endswith(("bin/invoke", "bin/tradebot")):
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


def test_the_job_releases_then_always_keeps_the_report_of_its_own_attempt_and_json() -> None:
    assert [line[:2] for line in invoke_lines()] == [
        ["test"],
        ["release", "--json"],
        ["rollback", "--json"],
        ["report", "--attempt"],
        ["report", "--attempt"],
    ]
    upload = steps("release")[-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["if"] == "${{ always() }}"
    report = next(step for step in steps() if step.get("name") == "Report")
    assert report["if"] == "${{ always() }}" and report["continue-on-error"] is True


def test_the_report_step_names_this_runs_attempt_or_says_there_is_none(tmp_path: Path) -> None:
    """The step's script, run with a stand-in `tradebot` that prints its arguments, for each release.json."""
    script = next(step for step in steps() if step.get("name") == "Report")["run"]
    (tmp_path / ".venv/bin").mkdir(parents=True)
    (tmp_path / ".venv/bin/python").symlink_to(sys.executable)
    (tmp_path / ".venv/bin/tradebot").write_text('#!/bin/sh\necho "$@" >> asked\n')
    (tmp_path / ".venv/bin/tradebot").chmod(0o755)
    env = {"EVIDENCE": "evidence", "PATH": "/usr/bin:/bin"}
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence/release.json").write_text('{"ok": false, "report": "", "exit_code": 4}')
    ran = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0 and "no report: this run's attempt failed before it began" in ran.stdout
    assert not (tmp_path / "asked").exists()
    (tmp_path / "evidence/release.json").write_text('{"ok": false, "report": "tb_meta:reports/a1b2.json"}')
    ran = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "asked").read_text().splitlines() == [
        "report --attempt tb_meta:reports/a1b2.json --html --out evidence/report.html",
        "report --attempt tb_meta:reports/a1b2.json --out evidence/report.md",
    ]


def test_the_release_waits_for_the_tests_and_an_environment_a_person_can_guard() -> None:
    jobs = workflow()["jobs"]
    assert jobs["release"]["needs"] == "test" and jobs["release"]["environment"] == "production"
    assert jobs["test"]["runs-on"].startswith("ubuntu-")  # a hosted runner: the deploy host never runs the tests
    assert [step.get("run") for step in steps("test") if "run" in step] == ["./bootstrap", ".venv/bin/invoke test"]
    assert any(step.get("run") == "./bootstrap --deploy-host" for step in steps("release"))


def test_each_job_keeps_its_virtual_environment_keyed_on_its_lock_file() -> None:
    for job, lock in (("test", "requirements-dev.lock"), ("release", "requirements.lock")):
        cache = next(step for step in steps(job) if step.get("uses", "").startswith("actions/cache@"))
        assert cache["with"]["path"] == ".venv" and f"hashFiles('{lock}'" in cache["with"]["key"]
        assert steps(job).index(cache) == 1  # right after the checkout, which cleans the workspace


def test_the_ssh_setup_run_twice_leaves_what_it_left_once(tmp_path: Path) -> None:
    script = next(step for step in steps() if step.get("name") == "SSH key for a remote engine")["run"]
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh/config").write_text("Host other\n  User me\n")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SSH_KEY": "KEY", "KNOWN_HOSTS": "bot-host ssh-ed25519 AAAA"}
    env["DOCKER_HOST"] = "ssh://deploy@bot-host:2222"

    def run() -> dict[str, str]:
        subprocess.run(["bash", "-e", "-c", script], env=env, check=True)
        return {str(p.relative_to(home)): p.read_text() for p in sorted(home.rglob("*")) if p.is_file()}

    once = run()
    assert run() == once
    assert once[".ssh/config"] == "Include ~/.ssh/config.d/tradebot\nHost other\n  User me\n"
    assert once[".ssh/config.d/tradebot"].startswith("Host bot-host\n  IdentityFile ~/.ssh/tradebot_deploy\n")
    assert once[".ssh/tradebot_known_hosts"] == "bot-host ssh-ed25519 AAAA\n"


def test_pushes_to_main_and_dispatch_with_revision_and_action_start_it_one_at_a_time() -> None:
    found = workflow()
    triggers = found[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"revision", "action"}
    assert triggers["workflow_dispatch"]["inputs"]["action"]["options"] == ["release", "rollback"]
    assert found["concurrency"]["cancel-in-progress"] is False
    assert "TRADEBOT_PROJECT" in found["concurrency"]["group"]
    for job in ("test", "release"):
        checkout = steps(job)[0]
        assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
