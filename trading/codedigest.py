"""The code digest: one number for "which code is this".

A digest is the sha256 of a manifest: one line ``"<sha256 of file>  <path>\\n"``
per file, sorted by path, paths relative to the ``trading`` package directory
and written with ``/``.  Byte caches (``__pycache__``, ``*.pyc``) are not code.

The same function digests the committed tree (git blobs), an image, a live
container and the modules a running process imported, so the points that
``invoke verify`` compares differ only in where the bytes came from.

A process also reports where it may import from and where every module it
loaded came from (``imported_code``: ``isolated``, ``sys_path``, ``modules``), so
verify can name a module loaded from outside the image's read-only paths.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = "trading"


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_code_path(relpath: str) -> bool:
    parts = relpath.split("/")
    return "__pycache__" not in parts and not relpath.endswith((".pyc", ".pyo"))


def manifest(files: Mapping[str, str]) -> str:
    return "".join(f"{files[path]}  {path}\n" for path in sorted(files))


def digest(files: Mapping[str, str]) -> str:
    return file_sha256(manifest(files).encode())


def hash_entries(entries: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """``{relpath: sha256}`` for the code files among ``(relpath, content)``."""
    return {path: file_sha256(data) for path, data in entries if is_code_path(path)}


def tree_files(root: Path) -> dict[str, str]:
    """Hash every code file below ``root`` (a ``trading`` directory)."""
    return hash_entries(
        (p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()
    )


def package_root() -> Path:
    return Path(__file__).resolve().parent


def module_name(key: str, module: object) -> str:
    """A module's own name: ``python -m trading`` runs ``trading/__main__.py`` as ``__main__``."""
    spec = getattr(module, "__spec__", None)
    return spec.name if key == "__main__" and spec is not None else key


def imported_files() -> dict[str, str]:
    """Hash the source files of the ``trading`` modules this process has imported."""
    root = package_root()
    entries = []
    for key, module in list(sys.modules.items()):
        name = module_name(key, module)
        source = getattr(module, "__file__", None)
        if not (name == PACKAGE or name.startswith(PACKAGE + ".")) or not source:
            continue
        path = Path(source).resolve()
        if path.is_relative_to(root) and path.is_file():
            entries.append((path.relative_to(root).as_posix(), path.read_bytes()))
    return hash_entries(entries)


def origin(module: object) -> str | list[str]:
    """Where a module was loaded from: its file, `built-in`/`frozen`, a namespace package's folders, or `in memory`.

    `in memory`: made by a module already loaded, not by an import (`typing.io`): its code is that module's.
    """
    source = getattr(module, "__file__", None)
    if source:
        return str(source)
    spec = getattr(module, "__spec__", None)
    if spec is not None and spec.origin in ("built-in", "frozen"):
        return str(spec.origin)
    return [str(folder) for folder in getattr(module, "__path__", None) or ()] or "in memory"


def module_origins() -> dict[str, str | list[str]]:
    """`{name: origin}` of every module this process has loaded."""
    return {module_name(key, module): origin(module) for key, module in list(sys.modules.items())}


def report() -> dict[str, object]:
    """The code this process runs: the `trading` files it imported and where every module came from."""
    files = imported_files()
    return {
        "path": str(package_root()),
        "digest": digest(files),
        "files": files,
        "isolated": bool(sys.flags.isolated),
        "sys_path": list(sys.path),
        "modules": module_origins(),
    }


_reported: dict[int, dict[str, object]] = {}  # {len(sys.modules): report()}, the newest only


def imported_code() -> dict[str, object]:
    """What a heartbeat says about the code this process runs (`report`), made again only when modules were loaded.

    Cheap enough for every heartbeat, so a module imported late (a first command's sqlite3) is reported too.
    """
    loaded = len(sys.modules)
    if loaded not in _reported:
        _reported.clear()
        _reported[loaded] = report()
    return _reported[loaded]
