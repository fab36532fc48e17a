"""A rollback needs only the engine (#19): what it needs of a release — the compose file as Compose resolved
it, the code files and code layer it is verified against — is kept with the release on the engine
(`<project>_meta:/releases/<attempt>.json`); the settings are the ledger's. So a clone that lacks the
release's commit, or an empty repository, rolls back and verifies; the issue saw "unknown revision".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.engine.git import Repository
from deploy.procedures import build
from deploy.procedures import deploy as deploying
from deploy.records import ledger
from deploy.verify import reference, verify
from tests.integration.test_pipeline import MARKED
from testsupport.cli import invoke
from testsupport.sandbox import Sandbox, git, quiet

pytestmark = pytest.mark.usefixtures("fast_ticks")


def other_repository(where: Path, commit: bool) -> Path:
    """A repository without the deployment's commits: one unrelated commit, or none at all."""
    where.mkdir()
    git(where, "init", "-q")
    if commit:
        (where / "README").write_text("another project\n")
        git(where, "add", "README")
        git(where, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "unrelated")
    return where


def test_a_rollback_from_a_clone_without_the_commit_or_from_none(sandbox: Sandbox, tmp_path: Path) -> None:
    settings, engine, repo = sandbox.settings, sandbox.engine, Repository(sandbox.repo)
    first = build.build(settings, engine, repo, say=quiet)
    deploying.deploy(settings, engine, repo, say=quiet)
    kept = reference.recorded(settings, engine, first.image_id)
    assert kept is not None and kept.commit == first.commit and kept.code == repo.code_files(first.commit)
    second = sandbox.commit("release two", {MARKED: (sandbox.repo / MARKED).read_text() + "# two\n"})
    build.build(settings, engine, repo, say=quiet)
    deploying.deploy(settings, engine, repo, say=quiet)

    elsewhere = other_repository(tmp_path / "other", commit=True)
    back = invoke(sandbox, "rollback", TRADEBOT_REPO=str(elsewhere))
    assert back.returncode == 0, back.stdout + back.stderr
    assert f"{first.commit[:12]} is not in this clone: Compose runs on its release record" in back.stdout
    checked = invoke(sandbox, "verify", "--json", TRADEBOT_REPO=str(elsewhere))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "as recorded at deploy by" in checked.stdout
    assert (found := verify(settings, engine, repo)).ok and found.release == first.commit, found.summary()

    empty = other_repository(tmp_path / "empty", commit=False)
    again = invoke(sandbox, "rollback", TRADEBOT_REPO=str(empty))  # to the second release, from no history
    assert again.returncode == 0, again.stdout + again.stderr
    assert (found := verify(settings, engine, repo)).ok and found.release == second, found.summary()
    outcomes = [(e.event, e.commit, e.outcome) for e in ledger.read(settings, engine)]
    assert outcomes[-2:] == [("rollback", first.commit, "succeeded"), ("rollback", second, "succeeded")]
