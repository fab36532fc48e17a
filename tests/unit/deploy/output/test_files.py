"""An --out file: a path it cannot use is one OutputError naming it, before any work; an existing one needs force."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import OutputError
from deploy.output.files import checked, write


def refusal(path: str, force: bool = False) -> OutputError:
    with pytest.raises(OutputError) as caught:
        checked(path, force)
    assert caught.value.exit_code == 13 and "\n" not in caught.value.message
    return caught.value


def test_a_new_file_is_written_whole_and_nothing_else_is_left_beside_it(tmp_path: Path) -> None:
    target = checked(str(tmp_path / "report.md"), force=False)
    write(target, "# report\n")
    assert target.read_text() == "# report\n" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_an_existing_file_is_refused_unless_forced_then_replaced(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("kept")
    error = refusal(str(tmp_path / "report.md"))
    assert error.message == f"{tmp_path / 'report.md'} exists" and "--force" in error.hint
    assert (tmp_path / "report.md").read_text() == "kept"
    write(checked(str(tmp_path / "report.md"), force=True), "new")
    assert (tmp_path / "report.md").read_text() == "new"


def test_a_directory_and_a_missing_directory_are_refused_naming_them(tmp_path: Path) -> None:
    assert refusal(str(tmp_path)).message == f"{tmp_path} is a directory"
    assert refusal(str(tmp_path / "gone" / "report.md")).message == f"{tmp_path / 'gone'} does not exist"


def test_a_place_that_cannot_be_written_is_one_line_naming_it() -> None:
    assert refusal("/proc/version").message == "/proc/version exists"
    with pytest.raises(OutputError) as caught:
        write(checked("/proc/version", force=True), "x")
    assert caught.value.message.startswith("cannot write /proc/version: ") and "\n" not in caught.value.message
