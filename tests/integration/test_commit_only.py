"""Only the commit decides what runs (issue 18, attack 5): Compose runs on the commit's tree, never the checkout's.

An untracked `.env` in the checkout, the shell's `COMPOSE_*` settings and an untracked `extends:` file
changed what was deployed; the ledger recorded no such setting, and verify from another clone failed.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.config import runtime
from deploy.engine.git import Repository
from deploy.errors import ComposeFileInvalid, PolicyViolation
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.records import ledger
from deploy.verify import verify
from testsupport.sandbox import Sandbox, git, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")
BOT = "  bot:\n    <<: *service\n"
DEFAULT_SYMBOLS = "TRADEBOT_SYMBOLS=BTCUSDT,ETHUSDT,SOLUSDT"


@dataclass
class Deployed:
    box: Sandbox
    repo: Repository
    commit: str


def running(box: Sandbox) -> dict[str, tuple[str, str]]:
    label = {"label": f"com.docker.compose.project={box.settings.project}"}
    return {c.name: (c.id, c.attrs["State"]["StartedAt"]) for c in box.engine.containers.list(filters=label)}


@pytest.fixture(scope="module")
def deployed(module_sandbox: Sandbox) -> Deployed:
    """The first commit deployed from a checkout with an untracked `.env` and the shell's `COMPOSE_*` set."""
    box, repo = module_sandbox, Repository(module_sandbox.repo)
    box.write(".env", "TRADEBOT_SYMBOLS=XRPUSDT\nCOMPOSE_PROJECT_NAME=elsewhere\n")
    box.write("evil.yml", "services:\n  bot:\n    environment:\n      TRADEBOT_SYMBOLS: DOGEUSDT\n")
    with pytest.MonkeyPatch.context() as shell:
        shell.setenv("COMPOSE_FILE", str(box.repo / "evil.yml"))
        shell.setenv("COMPOSE_PROFILES", "debug")
        shell.setenv("COMPOSE_ENV_FILES", str(box.repo / ".env"))
        live = build.build(box.settings, box.engine, repo, say=quiet)
        deploying.deploy(box.settings, box.engine, repo, rev=live.commit, say=quiet)
    return Deployed(box, repo, live.commit)


def test_an_untracked_env_file_and_the_shells_compose_settings_change_nothing(deployed: Deployed) -> None:
    box = deployed.box
    label = {"label": f"com.docker.compose.project={box.settings.project}"}
    bot = next(c for c in box.engine.containers.list(filters=label) if c.labels["com.docker.compose.service"] == "bot")
    assert DEFAULT_SYMBOLS in bot.attrs["Config"]["Env"]
    last = ledger.read(box.settings, box.engine)[-1]
    assert (last.commit, last.outcome, last.runtime) == (deployed.commit, ledger.SUCCEEDED, runtime(os.environ))


def test_the_deployment_verifies_from_a_fresh_clone(deployed: Deployed, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(deployed.box.repo), str(clone))
    from_clone = dataclasses.replace(deployed.box.settings, repo=clone)  # TRADEBOT_REPO: the clone
    report = verify(from_clone, deployed.box.engine, Repository(clone))
    assert report.ok, report.summary()
    assert report.release == deployed.commit


def test_an_untracked_extends_file_is_refused_before_anything_stops_and_a_committed_one_is_judged(
    deployed: Deployed,
) -> None:
    box, repo = deployed.box, deployed.repo
    before = running(box)
    compose_file = (box.repo / "docker-compose.yml").read_text()
    extended = compose_file.replace(BOT, BOT + "    extends: {file: base.yml, service: base}\n")
    assert extended != compose_file
    box.write("docker-compose.yml", extended)
    box.write("base.yml", "services:\n  base:\n    cap_add: [SYS_ADMIN]\n")
    git(box.repo, "add", "docker-compose.yml")
    git(box.repo, "commit", "-qm", "bot extends an untracked file")
    build.build(box.settings, box.engine, repo, say=quiet)

    with pytest.raises(ComposeFileInvalid) as refused:
        deploying.deploy(box.settings, box.engine, repo, say=quiet)
    assert "base.yml" in refused.value.message and refused.value.exit_code == 10
    assert running(box) == before

    box.commit("and commits it", {"base.yml": "services:\n  base:\n    cap_add: [SYS_ADMIN]\n"})
    build.build(box.settings, box.engine, repo, say=quiet)
    with pytest.raises(PolicyViolation) as judged:
        deploying.deploy(box.settings, box.engine, repo, say=quiet)
    assert judged.value.data["violations"] == ["bot cap_add (adds SYS_ADMIN)"]
    assert running(box) == before
