"""Operator tasks. Thin: parse options, call `deploy`, report.

`invoke --list` shows them; `invoke --help TASK` shows a task's options.
Settings come from the environment (see `deploy/config.py`).
"""

from __future__ import annotations

import shlex
import sys

from invoke import Context, task

from deploy import baseimage, engine
from deploy import verify as verification
from deploy.cli import reported
from deploy.config import Settings
from deploy.errors import VerifyFailed
from deploy.git import Repository
from deploy.runner import Runner


@task(name="base-image")
@reported
def base_image(c: Context) -> None:
    """Make sure the base image is present: pull it, or build it offline with debootstrap."""
    settings = Settings.from_env()
    baseimage.ensure(settings, engine.client(), Runner())


@task(help={"json": "print the report as JSON: {ok, release, head_ahead, points, checks}"})
@reported
def verify(c: Context, json: bool = False) -> None:
    """Prove the live release runs exactly its commit: the digest of trading/ at every point, and container checks."""
    settings = Settings.from_env()
    report = verification.verify(settings, engine.client(), Repository(settings.repo))
    print(verification.output(report, as_json=json))
    if not report.ok:
        raise VerifyFailed(report.release, report.summary())


@task(
    help={
        "unit": "only the fast tests (no Docker engine, no multi-process runs)",
        "integration": "only the integration tests (real Docker engine and Compose)",
        "k": "pytest -k expression",
    }
)
def test(c: Context, unit: bool = False, integration: bool = False, k: str = "") -> None:
    """Run the test suite: unit, multi-process and integration tests against the real engine."""
    argv = [sys.executable, "-m", "pytest"]
    if unit:
        argv += ["-m", "not integration and not slow"]
    elif integration:
        argv += ["-m", "integration"]
    if k:
        argv += ["-k", k]
    c.run(shlex.join(argv), pty=False)
