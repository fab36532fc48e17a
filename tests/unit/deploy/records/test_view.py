"""Records: the ledger, the journal and the builds read once per command, current with the command's own writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.config import Settings
from deploy.records import builds, journal, ledger, meta
from deploy.records.view import EngineRecords, Records

BUILT = builds.Build("a" * 40, "sha256:1", ("sha256:l1",), code_layer="sha256:l1")


def entry(attempt: str, outcome: str = ledger.SUCCEEDED) -> ledger.Entry:
    return ledger.Entry("deploy", "a" * 40, "sha256:1", "d", "t0", "t1", "me@here", outcome, attempt=attempt)


@pytest.fixture
def volume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, bytes]]:
    """The meta volume's ledger, journal and build folders as files; every read of them is counted under `reads`."""
    folders: dict[str, dict[str, bytes]] = {ledger.FOLDER: {"2.json": entry("b").to_json().encode()}, "reads": {}}
    folders[ledger.FOLDER]["1.json"] = entry("a").to_json().encode()
    folders[journal.FOLDER] = {"c.json": entry("c", journal.STARTED).to_json().encode()}
    folders[builds.FOLDER] = {"x.json": BUILT.to_json().encode()}

    def read_folders(_settings: Settings, _engine: object, names: tuple[str, ...]) -> dict[str, dict[str, bytes]]:
        folders["reads"][str(len(folders["reads"]))] = b""
        return {name: dict(folders[name]) for name in names}

    def write(_settings: Settings, _engine: object, files: dict[str, bytes]) -> None:
        for path, content in files.items():
            folder, _, name = path.partition("/")
            folders.setdefault(folder, {})[name] = content

    monkeypatch.setattr(meta, "read_folders", read_folders)
    monkeypatch.setattr(meta, "write", write)
    return folders


def records(tmp_path: Path) -> Records:
    return EngineRecords(Settings(project="p", repo=tmp_path, home=tmp_path), None)  # type: ignore[arg-type]


def test_the_folders_are_read_once_in_the_order_of_their_ids(
    tmp_path: Path, volume: dict[str, dict[str, bytes]]
) -> None:
    found = records(tmp_path)
    assert [e.attempt for e in found.entries()] == ["a", "b"]
    assert [e.attempt for e in found.started()] == ["c"]
    assert found.builds() == [BUILT]
    assert [e.attempt for e in found.entries()] == ["a", "b"]
    assert len(volume["reads"]) == 1


def test_what_the_command_writes_is_on_the_engine_and_in_what_it_reads_next(
    tmp_path: Path, volume: dict[str, dict[str, bytes]]
) -> None:
    found = records(tmp_path)
    found.entries()
    found.start(entry("d", journal.STARTED))
    found.append(entry("d", ledger.FAILED), key="3")
    assert [e.attempt for e in found.entries()] == ["a", "b", "d"]
    assert [e.attempt for e in found.started()] == ["c", "d"]
    assert set(volume[ledger.FOLDER]) == {"1.json", "2.json", "3.json"} and "d.json" in volume[journal.FOLDER]
    assert len(volume["reads"]) == 1


def test_writes_before_the_first_question_are_read_with_the_rest(
    tmp_path: Path, volume: dict[str, dict[str, bytes]]
) -> None:
    found = records(tmp_path)
    found.append(entry("d"), key="3")
    assert [e.attempt for e in found.entries()] == ["a", "b", "d"]
