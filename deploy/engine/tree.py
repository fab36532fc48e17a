"""A commit's tree on disk: what Compose reads, so that only the commit decides what runs.

Compose resolves more than the file it is given: `include:` and `extends:` files, a `.env` in the
project directory. Run on the checkout, an untracked file there changes what is deployed and what
verify computes. So Compose runs on the commit's regular files exported from git objects
(`Repository.export`) into a directory of their own, `--project-directory` included
(`deploy.engine.compose.base`).

Rules:
- One export per commit per command (`Trees`): a deploy runs Compose on its commit's tree five
  times, a rollback on two commits' trees.
- A tree's path is known before it is exported (`Trees.path`), so a plan shows the exact argv
  without exporting; `Trees.export` writes it when a command first runs on it.
- An export reads git objects through the repository's one `git cat-file` process, which is not safe
  from two threads: export before handing the tree to other threads, not beside another git read.
- The directory is private to this user (mkdtemp, 0700) and removed when its `Trees` goes: by
  `close`, else when it is collected or the process exits (`weakref.finalize`).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path

from deploy.engine.git import Repository

PREFIX = "tradebot-tree-"


class Trees:
    """The committed trees one command runs Compose on: `<root>/<sha>/`, each exported once."""

    def __init__(self) -> None:
        self._root: Path | None = None
        self._exported: set[str] = set()
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize | None = None

    def path(self, sha: str) -> Path:
        """Where the tree of `sha` is (once exported); makes only the private root directory."""
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix=PREFIX))
                self._finalizer = weakref.finalize(self, shutil.rmtree, self._root, ignore_errors=True)
            return self._root / sha

    def export(self, repo: Repository, sha: str) -> Path:
        """The tree of `sha`, exported from `repo`'s git objects the first time it is asked for."""
        where = self.path(sha)
        with self._lock:
            if sha not in self._exported:
                shutil.rmtree(where, ignore_errors=True)  # a half-written export of a failed attempt
                where.mkdir()
                repo.export(sha, where)
                self._exported.add(sha)
        return where

    def provide(self, sha: str, files: Mapping[str, bytes]) -> Path:
        """The tree of `sha` made of `files` (relative path → content) instead of git objects: a clone that
        lacks the commit runs Compose on what the engine recorded of it (`deploy.records.releases`)."""
        where = self.path(sha)
        with self._lock:
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir()
            for relpath, data in files.items():
                (where / relpath).write_bytes(data)
            self._exported.add(sha)
        return where

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


@contextlib.contextmanager
def committed(repo: Repository, sha: str) -> Iterator[Path]:
    """The tree of `sha` for the block, removed after it."""
    trees = Trees()
    try:
        yield trees.export(repo, sha)
    finally:
        trees.close()
