import hashlib
import importlib
import importlib.machinery
import sys
import types
from pathlib import Path

import pytest

from trading import codedigest


def test_digest_is_sha256_of_the_sorted_manifest() -> None:
    files = {"b.py": "2" * 64, "a.py": "1" * 64}
    expected = hashlib.sha256(f"{'1' * 64}  a.py\n{'2' * 64}  b.py\n".encode()).hexdigest()
    assert codedigest.digest(files) == expected


def test_any_change_of_name_or_content_changes_the_digest() -> None:
    base = {"a.py": "1" * 64}
    assert codedigest.digest(base) != codedigest.digest({"a.py": "2" * 64})
    assert codedigest.digest(base) != codedigest.digest({"b.py": "1" * 64})
    assert codedigest.digest(base) != codedigest.digest({**base, "c.py": "1" * 64})


def test_byte_caches_are_not_code() -> None:
    entries = [("a.py", b"x"), ("__pycache__/a.cpython-311.pyc", b"y"), ("sub/b.pyc", b"z")]
    assert list(codedigest.hash_entries(entries)) == ["a.py"]


def test_tree_files_use_relative_posix_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.py").write_bytes(b"M")
    (tmp_path / "__init__.py").write_bytes(b"")
    assert codedigest.tree_files(tmp_path) == {
        "__init__.py": hashlib.sha256(b"").hexdigest(),
        "sub/m.py": hashlib.sha256(b"M").hexdigest(),
    }


def test_imported_code_names_this_package_and_its_loaded_modules() -> None:
    code = codedigest.imported_code()
    assert code["path"] == str(Path(codedigest.__file__).resolve().parent)
    assert "codedigest.py" in code["files"] and "__init__.py" in code["files"]
    assert code["digest"] == codedigest.digest(code["files"])


def test_imported_code_says_where_this_process_may_import_from_and_where_each_module_came_from() -> None:
    code = codedigest.imported_code()
    assert code["isolated"] == bool(sys.flags.isolated) and code["sys_path"] == sys.path
    modules = code["modules"]
    assert modules["trading.codedigest"] == codedigest.__file__  # type: ignore[index]
    assert modules["sys"] == "built-in"  # type: ignore[index]


def test_a_module_loaded_after_a_report_is_in_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "late_module_for_codedigest.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = codedigest.imported_code()
    assert codedigest.imported_code() is before  # nothing loaded since: the same report
    monkeypatch.delitem(sys.modules, "late_module_for_codedigest", raising=False)
    importlib.import_module("late_module_for_codedigest")
    after = codedigest.imported_code()["modules"]
    assert after["late_module_for_codedigest"] == str(tmp_path / "late_module_for_codedigest.py")  # type: ignore[index]
    assert codedigest.imported_code()["sys_path"][0] == str(tmp_path)


def test_a_module_without_a_file_is_built_in_frozen_a_namespace_or_in_memory(tmp_path: Path) -> None:
    namespace = types.ModuleType("ns")
    namespace.__path__ = [str(tmp_path)]  # type: ignore[attr-defined]
    assert codedigest.origin(namespace) == [str(tmp_path)]
    assert codedigest.origin(types.ModuleType("made")) == "in memory"
    assert codedigest.origin(sys) == "built-in"
    frozen = types.ModuleType("f")
    frozen.__spec__ = importlib.machinery.ModuleSpec("f", None, origin="frozen")
    assert codedigest.origin(frozen) == "frozen"
