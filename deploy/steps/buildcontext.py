"""The build context of a commit: a tar made from git objects whose every byte is a function of the commit.

Rules (so the image's code layer is the same on every engine):

- `Dockerfile` at the top; the code under `rootfs/app/trading/`, laid out as it lands in the image's
  root, so `COPY rootfs/ /` copies the directory entries `app/` and `app/trading/` from the context
  instead of making them on the engine (a directory the engine makes carries the build's time).
- Every entry, directories included, is explicit: uid/gid 0, mode from the tree entry (blobs 0644,
  executables 0755, symlinks 0777, directories 0755) — never a umask (`git archive` gives 0664) —
  and one fixed mtime, `MTIME` (the epoch). Not the commit's time: the classic builder's cache
  key for COPY ignores mtimes, so a layer stamped with one commit's time would be reused for any
  later commit with the same tree, and the layer would depend on which commit this engine built
  first. With a fixed time the layer is a function of the tree, whoever built it and when.
- Entries in the order a directory walk gives: each directory, then its children sorted by name.
- The image's labels are ONE `LABEL` instruction appended to the committed Dockerfile (`label_instruction`):
  the engine API's `labels` parameter appends one instruction per label, and the classic builder commits
  each as a step of its own. Keys and values are double-quoted
  with `\\`, `"` and `$` escaped, so a value is never expanded or split; a line break in one is refused.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from deploy.engine.git import Repository
from deploy.errors import BuildFailed

if TYPE_CHECKING:
    import git  # GitPython's objects, handed over by `deploy.engine.git.Repository.objects`

ROOTFS = "rootfs"
CODE_DIR = "trading"
CODE_DEST = "app/trading"
CODE_PREFIX = f"{ROOTFS}/{CODE_DEST}"
EXECUTABLE = 0o100755
SYMLINK = 0o120000
MTIME = 0


@dataclass(frozen=True)
class Entry:
    """One file, directory or symlink of the code as it lands in the image; `data` is a symlink's target."""

    path: str
    kind: bytes
    mode: int
    data: bytes = b""

    def header(self, prefix: str, mtime: int, info: type[tarfile.TarInfo] = tarfile.TarInfo) -> tarfile.TarInfo:
        """Its tar header below `prefix`, owned by root (uid/gid 0, named `root`), stamped `mtime`."""
        header = info(f"{prefix}/{self.path}".strip("/"))
        header.type, header.mode, header.mtime = self.kind, self.mode, mtime
        header.uid = header.gid = 0
        header.uname = header.gname = "root"
        if self.kind == tarfile.SYMTYPE:
            header.linkname = self.data.decode()
        elif self.kind == tarfile.REGTYPE:
            header.size = len(self.data)
        return header

    def content(self) -> io.BytesIO | None:
        return io.BytesIO(self.data) if self.kind == tarfile.REGTYPE else None


def blob_entry(path: str, blob: git.Blob) -> Entry:
    data = blob.data_stream.read()
    if blob.mode == SYMLINK:
        return Entry(path, tarfile.SYMTYPE, 0o777, data)
    return Entry(path, tarfile.REGTYPE, 0o755 if blob.mode == EXECUTABLE else 0o644, data)


def tree_entries(tree: git.Tree, path: str) -> Iterator[Entry]:
    """`tree` at `path`: the directory, then its children sorted by name (subtrees recursed)."""
    yield Entry(path, tarfile.DIRTYPE, 0o755)
    for item in sorted(tree, key=lambda item: item.name.encode()):
        child = f"{path}/{item.name}"
        if item.type == "tree":
            yield from tree_entries(item, child)
        elif item.type == "blob":
            yield blob_entry(child, item)


def code_entries(commit: git.Commit) -> list[Entry]:
    """The code as it lands in the image's root: `app/`, `app/trading/` and everything below it."""
    parent = CODE_DEST.partition("/")[0]
    return [Entry(parent, tarfile.DIRTYPE, 0o755), *tree_entries(commit.tree / CODE_DIR, CODE_DEST)]


def label_instruction(labels: Mapping[str, str]) -> str:
    """`LABEL "key"="value" …` setting every one of `labels` in one build step."""
    return "LABEL " + " ".join(f"{_quoted(key)}={_quoted(value)}" for key, value in sorted(labels.items()))


def _quoted(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise build_failed("the labels", f"a label cannot hold a line break: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def build_failed(step: str, detail: str) -> BuildFailed:
    """A build failed at `step` (a Dockerfile step, or `the labels`)."""
    return BuildFailed(
        f"image build failed at {step or 'the first step'}: {detail}",
        "fix the Dockerfile or trading/ at that commit, commit, and build again",
    )


def of(repo: Repository, sha: str, labels: Mapping[str, str] | None = None) -> bytes:
    """The build context of commit `sha` of `repo`, its image's `labels` set."""
    return context_tar(repo.objects(sha), labels or {})


def context_tar(commit: git.Commit, labels: Mapping[str, str] | None = None) -> bytes:
    """The build context of `commit` (see the module docstring), its Dockerfile setting `labels` last."""
    mtime = MTIME
    dockerfile = blob_entry("Dockerfile", commit.tree / "Dockerfile")
    if labels:
        dockerfile = replace(dockerfile, data=dockerfile.data + f"\n{label_instruction(labels)}\n".encode())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(dockerfile.header("", mtime), dockerfile.content())
        archive.addfile(Entry(ROOTFS, tarfile.DIRTYPE, 0o755).header("", mtime))
        for entry in code_entries(commit):
            archive.addfile(entry.header(ROOTFS, mtime), entry.content())
    return buffer.getvalue()
