import subprocess
from pathlib import Path

import pytest

from deploy.engine import tree
from deploy.engine.git import Repository
from deploy.errors import UnknownRevision


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.invalid")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    return Repository(tmp_path)


def test_a_trees_path_is_known_before_it_is_exported_and_exported_once(repo: Repository) -> None:
    sha, trees = repo.commit().sha, tree.Trees()
    where = trees.path(sha)
    assert where.name == sha and where.parent.name.startswith(tree.PREFIX) and not where.exists()
    assert trees.export(repo, sha) == where
    (where / "docker-compose.yml").write_text("changed after the export\n")
    trees.export(repo, sha)
    assert (where / "docker-compose.yml").read_text() == "changed after the export\n"  # not written again
    assert where.parent.stat().st_mode & 0o777 == 0o700
    trees.close()
    assert not where.parent.exists()


def test_a_failed_export_is_written_again_when_asked_again(repo: Repository) -> None:
    trees = tree.Trees()
    with pytest.raises(UnknownRevision):
        trees.export(repo, "0" * 40)
    sha = repo.commit().sha
    assert (trees.export(repo, sha) / "docker-compose.yml").read_text() == "services: {}\n"
    trees.close()


def test_trees_go_when_nothing_holds_them(repo: Repository) -> None:
    trees = tree.Trees()
    root = trees.export(repo, repo.commit().sha).parent
    del trees
    assert not root.exists()


def test_committed_removes_the_tree_after_the_block(repo: Repository) -> None:
    with tree.committed(repo, repo.commit().sha) as where:
        assert (where / "docker-compose.yml").is_file()
    assert not where.exists() and not where.parent.exists()
