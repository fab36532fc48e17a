import hashlib
from pathlib import Path

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
