import io
import tarfile

from deploy.engine import archive


def test_packed_files_come_back_with_their_folders_and_content() -> None:
    files = {"ledger/1.json": b'{"a": 1}', "reports/1.json": b"{}", "top": b""}
    packed = archive.pack(files)
    with tarfile.open(fileobj=io.BytesIO(packed)) as tar:
        kinds = {m.name: (m.isdir(), m.mode) for m in tar.getmembers()}
        content = tar.extractfile("ledger/1.json")
        assert content is not None and content.read() == b'{"a": 1}'
    assert kinds["ledger"] == (True, 0o755) and kinds["ledger/1.json"] == (False, 0o644)


def test_unpack_names_files_below_the_folder_asked_for() -> None:
    """`get_archive('/meta/ledger')` answers with `ledger/...` members."""
    assert archive.unpack(archive.pack({"ledger/a.json": b"1", "ledger/b.json": b"2"})) == {
        "a.json": b"1",
        "b.json": b"2",
    }
