"""The release record (`releases`): written once per succeeded attempt, found by the image it made live."""

from __future__ import annotations

import dataclasses

from deploy.records import ledger, releases

RECORD = releases.Release(
    "a" * 40, "sha256:" + "1" * 64, '{"services": {}}', {"bot.py": "f" * 64}, "sha256:" + "2" * 64, "me@host", "t1"
)


def entry(image_id: str, outcome: str, attempt: str, event: str = "deploy") -> ledger.Entry:
    found = ledger.Entry(event, "c", image_id, "d", "t0", "t1", "me", outcome)
    return dataclasses.replace(found, attempt=attempt)


def test_a_record_reads_back_as_it_was_written_under_its_attempt() -> None:
    [(path, data)] = releases.files(RECORD, "att1").items()
    assert path == "releases/att1.json"
    assert releases.Release.parse(data) == RECORD


def test_the_newest_succeeded_release_attempt_of_the_image_holds_its_record() -> None:
    image = RECORD.image_id
    entries = [
        entry(image, ledger.SUCCEEDED, "old"),
        entry(image, ledger.SUCCEEDED, "new"),
        entry(image, ledger.ROLLED_BACK, "failed"),  # a later attempt that did not go live
        entry("sha256:other", ledger.SUCCEEDED, "other"),
        entry(image, ledger.SUCCEEDED, "", "deploy"),  # an entry of an older version: no attempt id
        entry(image, ledger.SUCCEEDED, "rebuild", "volume-rebuild"),
    ]
    found = releases.newest_success(entries, image)
    assert found is not None and found.attempt == "new"
    assert releases.newest_success(entries, "sha256:none") is None
