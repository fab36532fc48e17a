"""The build context is a function of the commit: same bytes from any clone, committed modes, commit time."""

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from deploy.engine.git import Repository
from deploy.steps import buildcontext, codelayer


def run(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "origin"
    (root / "trading" / "sub").mkdir(parents=True)
    run(root, "init", "-q", "-b", "main")
    run(root, "config", "user.email", "t@example.invalid")
    run(root, "config", "user.name", "t")
    (root / "trading" / "__init__.py").write_text("")
    (root / "trading" / "sub" / "mod.py").write_text("X = 1\n")
    (root / "trading" / "sub.py").write_text("")
    (root / "trading" / "tool.sh").write_text("#!/bin/sh\n")
    (root / "trading" / "tool.sh").chmod(0o775)
    (root / "trading" / "link.py").symlink_to("sub.py")
    (root / "Dockerfile").write_text("FROM scratch\n")
    run(root, "add", "-A")
    run(root, "commit", "-qm", "one")
    return root


def members(context: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(context)) as archive:
        return {member.name: member for member in archive}


def test_every_entry_is_root_owned_with_the_committed_mode_and_one_fixed_time(repo: Path) -> None:
    repository = Repository(repo)
    commit = repository.commit()
    found = members(buildcontext.of(repository, commit.sha))
    modes = {name: (m.type, oct(m.mode)) for name, m in found.items()}
    assert modes == {
        "Dockerfile": (tarfile.REGTYPE, "0o644"),
        "rootfs": (tarfile.DIRTYPE, "0o755"),
        "rootfs/app": (tarfile.DIRTYPE, "0o755"),
        "rootfs/app/trading": (tarfile.DIRTYPE, "0o755"),
        "rootfs/app/trading/__init__.py": (tarfile.REGTYPE, "0o644"),
        "rootfs/app/trading/link.py": (tarfile.SYMTYPE, "0o777"),
        "rootfs/app/trading/sub": (tarfile.DIRTYPE, "0o755"),
        "rootfs/app/trading/sub/mod.py": (tarfile.REGTYPE, "0o644"),
        "rootfs/app/trading/sub.py": (tarfile.REGTYPE, "0o644"),
        "rootfs/app/trading/tool.sh": (tarfile.REGTYPE, "0o755"),
    }
    assert {(m.uid, m.gid, m.mtime) for m in found.values()} == {(0, 0, buildcontext.MTIME)}
    assert found["rootfs/app/trading/link.py"].linkname == "sub.py"


def test_a_clone_made_elsewhere_gives_the_same_bytes(repo: Path, tmp_path: Path) -> None:
    """Another checkout time and umask, the same commit: the same context, byte for byte."""
    sha = Repository(repo).commit().sha
    old = os.umask(0o077)
    try:
        subprocess.run(["git", "clone", "-q", str(repo), str(tmp_path / "clone")], check=True)
    finally:
        os.umask(old)
    assert buildcontext.of(Repository(tmp_path / "clone"), sha) == buildcontext.of(Repository(repo), sha)


def test_the_code_layer_digest_is_a_function_of_the_code_tree(repo: Path, tmp_path: Path) -> None:
    """The engine's build cache ignores mtimes: a later commit of the same tree must mean the same layer."""
    repository = Repository(repo)
    first = repository.commit().sha
    subprocess.run(["git", "clone", "-q", str(repo), str(tmp_path / "clone")], check=True)
    assert codelayer.of(Repository(tmp_path / "clone"), first) == codelayer.of(repository, first)
    later = {**os.environ, "GIT_COMMITTER_DATE": "2030-01-01T00:00:00Z"}
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "same tree"], check=True, env=later)
    assert codelayer.of(repository, repository.commit().sha) == codelayer.of(repository, first)
    (repo / "trading" / "sub" / "mod.py").chmod(0o755)
    run(repo, "commit", "-qam", "only a mode changes")
    assert codelayer.of(repository, repository.commit().sha) != codelayer.of(repository, first)
