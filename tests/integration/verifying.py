"""A deployment to attack and verify: shared by the tests that change a live release and read verify's answer.

One deployment per test module (the sandbox's first commit, through `deploy.procedures.deploy`), with a
second release built beside it; each test changes it, runs verify and names the exact checks it must trip;
`put_back` makes the release live and verified again, so the cases stay independent.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import Protocol

import docker
from docker.models.containers import Container

from deploy.engine import compose
from deploy.engine.client import compose_argv
from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.steps import health, startup
from deploy.steps.images import ReleaseImage
from deploy.verify import VerifyReport, verify
from deploy.verify.codecompare import Difference
from testsupport.sandbox import Sandbox, quiet

CHANGED = "heartbeat.py"  # imported by the bot and the worker


class OnSandbox(Protocol):
    """Anything deployed on a sandbox (this module's `Deployed`, or a test module's own)."""

    box: Sandbox


@dataclass
class Deployed:
    box: Sandbox
    repo: Repository
    live: ReleaseImage
    other: ReleaseImage


def deploy_two_releases(box: Sandbox, engine: docker.DockerClient) -> Deployed:
    """Release A deployed and live; release B (one trading file differs) built but not deployed."""
    repo = Repository(box.repo)
    live = build.build(box.settings, engine, repo, say=quiet)
    deploying.deploy(box.settings, engine, repo, rev=live.commit, say=quiet)
    source = (box.repo / "trading" / CHANGED).read_text()
    box.commit("release B", {f"trading/{CHANGED}": source + "\n# release B\n"})
    other = build.build(box.settings, engine, repo, say=quiet)
    return Deployed(box, repo, live, other)


def compose_run(d: OnSandbox, *args: str, override: str | None = None) -> None:
    """`docker compose` on the release's compose file, plus an override file when given."""
    files = ["-f", str(d.box.repo / "docker-compose.yml")]
    if override is not None:
        extra = d.box.repo / ".tradebot" / "override.yml"
        extra.parent.mkdir(exist_ok=True)
        extra.write_text(override)
        files += ["-f", str(extra)]
    argv = [*compose_argv(d.box.settings), *files, "-p", d.box.settings.project, *args]
    done = subprocess.run(argv, capture_output=True, text=True, env=compose.env(d.box.settings, os.environ))
    assert done.returncode == 0, done.stderr


def put_back(d: Deployed) -> None:
    """Make release A live again, as deployed, when it no longer verifies; prove it verifies."""
    if run_verify(d).ok:
        return
    engine, settings = d.box.engine, d.box.settings
    engine.images.get(d.live.image_id).tag(settings.image_repo, "live")
    compose_run(d, "up", "-d", "--force-recreate", "--remove-orphans", "bot", "worker")
    startup.wait_release(settings, engine, d.live.image_id, ran_before=True)
    report = run_verify(d)
    assert report.ok, report.summary()


def run_verify(d: Deployed) -> VerifyReport:
    return verify(d.box.settings, d.box.engine, d.repo)


def point(report: VerifyReport, name: str) -> tuple[Difference, ...] | tuple[str, ...]:
    found = next(p for p in report.points if p.name == name)
    return found.differences or found.problems


def failed_checks(report: VerifyReport) -> set[tuple[str, str]]:
    return {(c.target, c.name) for c in report.checks if not c.ok}


def detail(report: VerifyReport, target: str, name: str) -> str:
    """What the check `name` of `target` found."""
    return next(c for c in report.checks if (c.target, c.name) == (target, name)).detail


def service(d: Deployed, name: str) -> Container:
    """The service's container, inspected now."""
    found = health.service_container(d.box.settings, d.box.engine, name)
    assert found is not None, f"no {name} container"
    found.reload()
    return found
