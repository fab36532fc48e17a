"""The proof of a carried volume (pure): every entry's type, size, content, mode and owner, by path."""

from __future__ import annotations

import io
import tarfile

from deploy.fleet import carry


def volume_archive(files: dict[str, tuple[bytes, int, int]]) -> bytes:
    """An archive as `get_archive` of the helper's mount gives it: entries below `carried/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        top = tarfile.TarInfo("carried")
        top.type, top.mode, top.uid, top.gid = tarfile.DIRTYPE, 0o750, 10001, 10001
        tar.addfile(top)
        for path, (content, mode, uid) in files.items():
            info = tarfile.TarInfo(f"carried/{path}")
            info.size, info.mode, info.uid, info.gid = len(content), mode, uid, uid
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


STATE = {"live_portfolio.json": (b"{}", 0o640, 10001), "commands.sqlite3": (b"SQLite", 0o640, 10001)}


def test_a_volume_is_known_by_each_entry_below_its_root() -> None:
    found = carry.manifest(volume_archive(STATE))
    assert set(found) == {".", "live_portfolio.json", "commands.sqlite3"}
    assert found["."][0] == "dir" and found["."][3:] == (0o750, 10001, 10001)
    assert found["live_portfolio.json"][:2] == ("file", 2) and found["live_portfolio.json"][3:] == (0o640, 10001, 10001)


def test_an_identical_copy_has_no_differences_and_every_other_one_is_named() -> None:
    source = carry.manifest(volume_archive(STATE))
    assert carry.differences(source, carry.manifest(volume_archive(STATE))) == []
    changed = {**STATE, "live_portfolio.json": (b"[]", 0o640, 10001), "extra": (b"", 0o600, 0)}
    del changed["commands.sqlite3"]
    assert carry.differences(source, carry.manifest(volume_archive(changed))) == [
        "commands.sqlite3 missing",
        "extra extra",
        "live_portfolio.json differs",
    ]
    owner = {**STATE, "commands.sqlite3": (b"SQLite", 0o640, 0)}
    assert carry.differences(source, carry.manifest(volume_archive(owner))) == ["commands.sqlite3 differs"]
