from deploy.records import builds
from deploy.records.ledger import Entry

IMAGE = "sha256:" + "9" * 64
RECORD = builds.Build("c" * 40, IMAGE, ("sha256:a", "sha256:b"), base_ref="tradebot-base:bookworm", by="op@host")


def entry(event: str, commit: str, image_id: str, outcome: str = "failed") -> Entry:
    return Entry(event, commit, image_id, "d", "t0", "t1", "op@host", outcome)


def test_a_record_is_named_after_its_commit_and_image_and_reads_back_equal() -> None:
    assert RECORD.path == f"builds/{'c' * 40}-{'9' * 12}.json"
    assert builds.parse_files({RECORD.path: RECORD.to_json().encode(), "builds/junk.json": b"[1"}) == [RECORD]


def test_records_are_found_by_image_and_by_commit() -> None:
    other = builds.Build("d" * 40, "sha256:" + "8" * 64, ())
    assert builds.of_image([other, RECORD], IMAGE) == RECORD
    assert builds.of_image([other], IMAGE) is None
    assert builds.of_commit([other, RECORD], "c" * 40) == [RECORD]


def test_only_a_release_of_that_very_image_as_that_commit_makes_an_unrecorded_image_adoptable() -> None:
    assert builds.adoptable([entry("deploy", "c" * 40, IMAGE)], "c" * 40, IMAGE)
    assert not builds.adoptable([entry("deploy", "c" * 40, "sha256:other")], "c" * 40, IMAGE)
    assert not builds.adoptable([entry("deploy", "d" * 40, IMAGE)], "c" * 40, IMAGE)
    assert not builds.adoptable([entry("volume-rebuild", "c" * 40, IMAGE)], "c" * 40, IMAGE)


def test_the_first_differing_layer() -> None:
    assert builds.first_difference(["a", "b", "c"], ["a", "b", "c"]) is None
    assert builds.first_difference(["a", "x", "c"], ["a", "b", "c"]) == 1
    assert builds.first_difference(["a", "b", "x", "c"], ["a", "b", "c"]) == 2
    assert builds.first_difference(["a", "b"], ["a", "b", "c"]) == 2
