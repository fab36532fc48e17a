import subprocess
from pathlib import Path

import pytest

from deploy.engine import archive
from deploy.engine.git import Repository
from deploy.errors import NotARepository, UnknownRevision
from deploy.steps import buildcontext
from trading import codedigest


def run(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    run(tmp_path, "init", "-q", "-b", "main")
    run(tmp_path, "config", "user.email", "t@example.invalid")
    run(tmp_path, "config", "user.name", "t")
    (tmp_path / "trading" / "sub").mkdir(parents=True)
    (tmp_path / "trading" / "__init__.py").write_text("")
    (tmp_path / "trading" / "sub" / "mod.py").write_text("X = 1\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "README.md").write_text("not in the image\n")
    run(tmp_path, "add", "-A")
    run(tmp_path, "commit", "-qm", "one")
    return tmp_path


def test_outside_a_repository_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(NotARepository):
        Repository(tmp_path / "nowhere")


def test_unknown_revision_is_a_named_error(repo: Path) -> None:
    with pytest.raises(UnknownRevision, match="no-such-branch"):
        Repository(repo).commit("no-such-branch")


def test_commit_resolves_to_the_full_sha(repo: Path) -> None:
    commit = Repository(repo).commit("main")
    assert commit.sha == run(repo, "rev-parse", "HEAD") and commit.short == commit.sha[:12]


def test_dirty_paths_name_modified_and_untracked_files_under_watched_paths_only(repo: Path) -> None:
    (repo / "trading" / "sub" / "mod.py").write_text("X = 2\n")
    (repo / "trading" / "new.py").write_text("")
    (repo / "README.md").write_text("edited, but not watched\n")
    assert sorted(Repository(repo).dirty_paths()) == ["trading/new.py", "trading/sub/mod.py"]


def test_dirty_paths_name_both_sides_of_a_rename_and_paths_with_spaces_and_non_ascii(repo: Path) -> None:
    run(repo, "mv", "trading/sub/mod.py", "trading/sub/renamed.py")
    (repo / "trading" / "with space.py").write_text("")
    (repo / "trading" / "ünïcödé.py").write_text("")
    (repo / "trading" / "sub dir").mkdir()
    (repo / "trading" / "sub dir" / "é x.py").write_text("")
    run(repo, "add", "trading/sub dir")
    assert Repository(repo).dirty_paths() == [
        "trading/sub dir/é x.py",
        "trading/sub/mod.py",
        "trading/sub/renamed.py",
        "trading/with space.py",
        "trading/ünïcödé.py",
    ]


def test_a_staged_edit_is_dirty_and_a_clean_tree_is_not(repo: Path) -> None:
    assert Repository(repo).dirty_paths() == []
    (repo / "Dockerfile").write_text("FROM scratch\nUSER 1\n")
    run(repo, "add", "Dockerfile")
    assert Repository(repo).dirty_paths() == ["Dockerfile"]


def test_build_context_is_the_committed_tree_not_the_working_tree(repo: Path) -> None:
    repository = Repository(repo)
    sha = repository.commit().sha
    (repo / "trading" / "sub" / "mod.py").write_text("X = 'uncommitted'\n")
    (repo / "trading" / "untracked.py").write_text("")
    context = buildcontext.of(repository, sha)
    assert sorted(n for n in archive.members(context) if n.endswith((".py", "Dockerfile"))) == [
        "Dockerfile",
        "rootfs/app/trading/__init__.py",
        "rootfs/app/trading/sub/mod.py",
    ]
    assert b"uncommitted" not in context


def test_code_files_hash_the_committed_blobs_like_the_tree_digest(repo: Path) -> None:
    repository = Repository(repo)
    committed = repository.code_files(repository.commit().sha)
    assert committed == codedigest.tree_files(repo / "trading")
    (repo / "trading" / "sub" / "mod.py").write_text("X = 3\n")
    assert repository.code_files(repository.commit().sha) == committed
    assert codedigest.tree_files(repo / "trading")["sub/mod.py"] != committed["sub/mod.py"]


def test_commits_ahead_counts_commits_since_a_release(repo: Path) -> None:
    repository = Repository(repo)
    released = repository.commit().sha
    run(repo, "commit", "-q", "--allow-empty", "-m", "two")
    assert repository.commits_ahead(released) == 1


def test_export_writes_the_commits_regular_files_with_their_modes_and_leaves_out_symlinks(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (repo / "run.sh").write_text("#!/bin/sh\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "passwd").symlink_to("/etc/passwd")
    run(repo, "add", "-A")
    run(repo, "commit", "-qm", "two")
    sha = run(repo, "rev-parse", "HEAD")
    (repo / "untracked.yml").write_text("services: {}\n")
    (repo / "Dockerfile").write_text("FROM edited\n")
    into = tmp_path_factory.mktemp("tree")

    left_out = Repository(repo).export(sha, into)

    files = {str(p.relative_to(into)): p for p in into.rglob("*") if not p.is_dir()}
    assert sorted(files) == ["Dockerfile", "README.md", "run.sh", "trading/__init__.py", "trading/sub/mod.py"]
    assert left_out == ["passwd"]
    assert files["Dockerfile"].read_text() == "FROM scratch\n"  # the commit's, not the working tree's
    assert (files["run.sh"].stat().st_mode & 0o777, files["README.md"].stat().st_mode & 0o777) == (0o755, 0o644)


def test_export_of_an_unknown_commit_is_a_named_error(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    with pytest.raises(UnknownRevision):
        Repository(repo).export("0" * 40, tmp_path_factory.mktemp("tree"))
