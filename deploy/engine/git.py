"""What the pipeline asks of the repository: commits, dirtiness, the committed tree.

The build context and every "commit" digest come from git objects, never from
the working tree.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import git

from deploy.errors import GitError, NotARepository, UnknownRevision
from deploy.ids import short
from trading import codedigest

CODE_DIR = "trading"
WATCHED_PATHS = ("Dockerfile", "docker-compose.yml", CODE_DIR)
REGULAR_MODES = (0o100644, 0o100755)  # a symlink (0o120000) could point out of the tree; a submodule is no file


@dataclass(frozen=True)
class Commit:
    sha: str
    short: str
    time: int = 0  # the committer's time, seconds since the epoch


class Repository:
    def __init__(self, path: Path) -> None:
        try:
            self._repo = git.Repo(path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise _not_a_repository(path) from exc
        if self._repo.bare:
            raise _not_a_repository(path)
        self.root = Path(self._repo.working_tree_dir or path)

    @contextlib.contextmanager
    def another(self) -> Iterator[Repository]:
        """A handle of its own on this clone, for the block: GitPython's reads are not safe from two threads."""
        second = Repository(self.root)
        try:
            yield second
        finally:
            second._repo.close()  # its `git cat-file` processes

    def commit(self, rev: str = "HEAD") -> Commit:
        try:
            obj = self._repo.commit(rev)
        except (git.BadName, ValueError, git.GitCommandError) as exc:
            raise _unknown(rev) from exc
        return Commit(obj.hexsha, short(obj.hexsha), obj.committed_date)

    def describe(self, sha: str) -> str:
        """`git describe --always` of a commit (a subprocess: only a build asks)."""
        return self._repo.git.describe("--always", sha)

    def dirty_paths(self, paths: tuple[str, ...] = WATCHED_PATHS) -> list[str]:
        """Files under `paths` that differ from HEAD, sorted: staged, modified, untracked, both names of a rename."""
        changes = [*self._repo.index.diff("HEAD", paths=list(paths)), *self._repo.index.diff(None, paths=list(paths))]
        found = {path for change in changes for path in (change.a_path, change.b_path) if path}
        found.update(path for path in self._repo.untracked_files if under(path, paths))
        return sorted(found)

    def source(self) -> str:
        """The first remote's URL as configured (credentials included: `images.public_source` strips them), or ''."""
        remotes = self._repo.remotes
        return next(iter(remotes[0].urls), "") if remotes else ""

    def objects(self, sha: str) -> git.Commit:
        """The git objects of commit `sha` (GitPython's), for what is made from its tree alone."""
        return self._repo.commit(sha)

    def file_at(self, sha: str, path: str) -> str:
        """The text of `path` in commit `sha`, read from its blob (no `git show` process)."""
        try:
            blob = self._repo.commit(sha).tree / path
        except (git.BadName, ValueError, KeyError) as exc:
            raise _unknown(f"{sha}:{path}") from exc
        return blob.data_stream.read().decode()

    def export(self, sha: str, into: Path) -> list[str]:
        """Write the regular files of commit `sha` below the empty directory `into`, with their committed modes.

        Symlinks and submodules are left out; their paths are returned (sorted), so a caller can name them.
        """
        try:
            tree = self._repo.commit(sha).tree
        except (git.BadName, ValueError) as exc:
            raise _unknown(sha) from exc
        left_out = []
        for item in tree.traverse():
            if item.type == "tree":
                continue
            if item.type != "blob" or item.mode not in REGULAR_MODES:
                left_out.append(item.path)
                continue
            _write(into, item.path, item.data_stream.read(), item.mode & 0o777)
        return sorted(left_out)

    def code_files(self, sha: str) -> dict[str, str]:
        """`{relpath: sha256}` of `trading/` at `sha`, read from git blobs."""
        tree = self._repo.commit(sha).tree / CODE_DIR
        entries = (
            (blob.path[len(CODE_DIR) + 1 :], blob.data_stream.read()) for blob in tree.traverse() if blob.type == "blob"
        )
        return codedigest.hash_entries(entries)

    def commits_ahead(self, base: str, head: str = "HEAD") -> int:
        return int(self._repo.git.rev_list("--count", f"{base}..{head}"))


def _not_a_repository(path: Path) -> NotARepository:
    return NotARepository(f"{path} is not a git repository", "run from a clone of the tradebot repository")


def _unknown(rev: str) -> UnknownRevision:
    return UnknownRevision(f"unknown revision {rev!r}", "give a commit, tag or branch that exists (`git log`)", rev=rev)


def _write(root: Path, relpath: str, data: bytes, mode: int) -> None:
    """`relpath` below `root`; a path git would never check out (`..`, absolute) is refused, not followed."""
    if ".." in Path(relpath).parts or Path(relpath).is_absolute():
        raise GitError(f"the commit holds the path {relpath!r}, outside its tree", "use a commit git can check out")
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(mode)


def under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)
