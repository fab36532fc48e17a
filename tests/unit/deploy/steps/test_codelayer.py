"""The code layer's tar, written as the engine writes it (the integration test compares with a real engine)."""

import io
import tarfile

import pytest

from deploy.errors import CodeLayerUncomputable
from deploy.steps import codelayer
from deploy.steps.buildcontext import Entry

ENTRIES = [
    Entry("app", tarfile.DIRTYPE, 0o755),
    Entry("app/trading", tarfile.DIRTYPE, 0o755),
    Entry("app/trading/a.py", tarfile.REGTYPE, 0o644, b"A = 1\n"),
    Entry("app/trading/run", tarfile.REGTYPE, 0o755, b"#!/bin/sh\n"),
    Entry("app/trading/ln", tarfile.SYMTYPE, 0o777, b"a.py"),
]


def headers(data: bytes) -> list[bytes]:
    blocks = [data[i : i + 512] for i in range(0, len(data), 512)]
    return [b for b in blocks if b[257:263] == b"ustar\0"]


def test_mode_fields_keep_the_file_type_bits_and_directories_end_in_a_slash() -> None:
    found = [(h[:100].rstrip(b"\0"), h[100:108]) for h in headers(codelayer.layer_tar(ENTRIES, 1_700_000_000))]
    assert found == [
        (b"app/", b"0040755\0"),
        (b"app/trading/", b"0040755\0"),
        (b"app/trading/a.py", b"0100644\0"),
        (b"app/trading/run", b"0100755\0"),
        (b"app/trading/ln", b"0120777\0"),
    ]


def test_owner_is_root_by_number_and_name_and_device_numbers_are_zeros() -> None:
    for header in headers(codelayer.layer_tar(ENTRIES, 1_700_000_000)):
        assert (header[108:116], header[116:124]) == (b"0000000\0", b"0000000\0")
        assert (header[265:297].rstrip(b"\0"), header[297:329].rstrip(b"\0")) == (b"root", b"root")
        assert header[329:345] == b"0000000\0" * 2


def test_checksums_stay_valid_and_the_archive_reads_back() -> None:
    data = codelayer.layer_tar(ENTRIES, 1_700_000_000)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert archive.extractfile("app/trading/a.py").read() == b"A = 1\n"
        assert {m.mtime for m in archive} == {1_700_000_000}


def test_the_archive_ends_after_two_zero_blocks_not_padded_to_a_record() -> None:
    data = codelayer.layer_tar(ENTRIES, 1_700_000_000)
    content_blocks = len(ENTRIES) + 2  # one header each, one data block for a.py and for run
    assert len(data) == (content_blocks + 2) * 512
    assert data[-1024:] == b"\0" * 1024


def test_a_path_too_long_for_a_plain_header_is_named() -> None:
    long = Entry("app/trading/" + "x" * 90 + ".py", tarfile.REGTYPE, 0o644)
    with pytest.raises(CodeLayerUncomputable) as raised:
        codelayer.layer_tar([*ENTRIES, long], 0)
    assert raised.value.data["paths"] == [long.path]
