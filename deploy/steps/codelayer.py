"""The image's code layer, computed from the commit alone: its diff_id is the release's provenance.

`COPY rootfs/ /` of the context `deploy.steps.buildcontext` makes gives a layer whose
every entry is the commit's, so its tar can be written here without an engine,
byte for byte as the engine's layer writer (Go's archive/tar on overlay2; the classic
builder and the engine's BuildKit write the same layer) writes it:

- entries in walk order: `app/`, `app/trading/`, then each directory's children by name;
  directory names end in `/`;
- USTAR blocks in PAX format: the mode field keeps the file-type bits (`0040755`,
  `0100644`, `0120777`), uid/gid 0 named `root`, device numbers written as zeros;
- the archive ends with two zero blocks, not padded to a record.

`diff_id` is `sha256:` of that tar, the digest `docker image inspect` lists in
`RootFS.Layers`. Paths of 100 bytes or more, or not ASCII, would need PAX records
whose naming differs between writers: `CodeLayerUncomputable` names them.
"""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from deploy.engine.git import Repository
from deploy.errors import CodeLayerUncomputable, first_of
from deploy.steps.buildcontext import MTIME, Entry, code_entries

if TYPE_CHECKING:
    import git  # GitPython's objects, handed over by `deploy.engine.git.Repository.objects`

TYPE_BITS = {tarfile.DIRTYPE: stat.S_IFDIR, tarfile.REGTYPE: stat.S_IFREG, tarfile.SYMTYPE: stat.S_IFLNK}
MAX_NAME = 99  # the USTAR name field holds 100 bytes; a directory's name gains a `/`


class EngineTarInfo(tarfile.TarInfo):
    """A header as Go's archive/tar writes it for the engine: tarfile masks the mode's type bits, Go keeps them."""

    @staticmethod
    def _create_header(info: Mapping[str, Any], format: int, encoding: str, errors: str) -> bytes:
        block = bytearray(tarfile.TarInfo._create_header(info, format, encoding, errors))
        block[100:108] = tarfile.itn(info["mode"] | TYPE_BITS[info["type"]], 8, format)
        block[329:345] = tarfile.itn(0, 8, format) * 2  # devmajor, devminor
        block[148:155] = b"%06o\0" % tarfile.calc_chksums(block)[0]
        return bytes(block)


def layer_tar(entries: Sequence[Entry], mtime: int) -> bytes:
    """The layer's tar (see the module docstring); raises CodeLayerUncomputable for a name it cannot write."""
    unwritable = [e.path for e in entries if len(e.path.encode()) > MAX_NAME or not e.path.isascii()]
    if unwritable:
        raise CodeLayerUncomputable(
            f"the code layer cannot be computed from the commit: {first_of(unwritable, 3)} "
            "(path of 100 bytes or more, or not ASCII)",
            "rename those files under trading/ (short ASCII paths) and commit",
            paths=unwritable,
        )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            archive.addfile(entry.header("", mtime, EngineTarInfo), entry.content())
    return buffer.getvalue()[: archive.offset]  # tarfile pads to 10240-byte records; the engine does not


def of(repo: Repository, sha: str) -> str:
    """The diff_id of the code layer commit `sha` of `repo` builds into."""
    return diff_id(repo.objects(sha))


def diff_id(commit: git.Commit) -> str:
    """`sha256:<hex>` of the code layer `commit` builds into (`RootFS.Layers[-1]` of its image)."""
    return "sha256:" + hashlib.sha256(layer_tar(code_entries(commit), MTIME)).hexdigest()
