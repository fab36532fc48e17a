from deploy import images
from deploy.images import ReleaseImage


def release(image_id: str, *tags: str, commit: str = "c") -> ReleaseImage:
    return ReleaseImage(image_id, commit, "d", dirty=False, tags=tags)


def test_dirty_build_never_takes_the_clean_tag() -> None:
    assert images.release_tag("tb", "abc", dirty=False) == "tb:abc"
    assert images.release_tag("tb", "abc", dirty=True) == "tb:abc-dirty"


def test_labels_are_the_interface_labels() -> None:
    got = images.labels(
        commit="abc", created="2026-01-01T00:00:00Z", source="/r", version="v1", code_digest="d", dirty=True
    )
    assert got == {
        "org.opencontainers.image.revision": "abc",
        "org.opencontainers.image.created": "2026-01-01T00:00:00Z",
        "org.opencontainers.image.source": "/r",
        "org.opencontainers.image.version": "v1",
        "io.tradebot.code.digest": "d",
        "io.tradebot.dirty": "true",
    }


def test_release_image_reads_its_labels() -> None:
    labels = images.labels(commit="abc", created="t", source="s", version="v", code_digest="d", dirty=False)
    got = ReleaseImage.from_labels("sha256:1", labels, ["tb:abc"])
    assert got == ReleaseImage("sha256:1", "abc", "d", dirty=False, tags=("tb:abc",), version="v", built_at="t")
    assert ReleaseImage.from_labels("sha256:2", None).commit == ""


def test_the_release_tag_is_the_commits_tag_among_its_tags() -> None:
    assert release("i", "tb:live", "tb:abc", commit="abc").release_tag == "tb:abc"
    assert release("i", "tb:abc-dirty", commit="abc").release_tag == "tb:abc-dirty"
    assert release("i", "tb:live", commit="abc").release_tag == ""
    assert release("i", "tb:live", commit="").release_tag == ""


def test_build_progress_shows_step_lines_only() -> None:
    assert (
        images.build_progress({"stream": "Step 3/9 : COPY trading /app/trading\n"})
        == "Step 3/9 : COPY trading /app/trading"
    )
    assert images.build_progress({"stream": " ---> Using cache\n"}) is None
    assert images.build_progress({"aux": {"ID": "sha256:1"}}) is None


def test_build_error_prefers_the_detail_message() -> None:
    chunk = {"error": "short", "errorDetail": {"message": "The command returned a non-zero code: 1"}}
    assert images.build_error(chunk) == "The command returned a non-zero code: 1"
    assert images.build_error({"error": "only this"}) == "only this"
    assert images.build_error({"stream": "Step 1/2"}) is None


def test_prune_keeps_the_newest_and_never_live_or_previous() -> None:
    newest_first = [
        release("i5", "tb:c5", "tb:live", commit="c5"),
        release("i4", "tb:c4", commit="c4"),
        release("i3", "tb:c3", commit="c3"),
        release("i2", "tb:c2", "tb:previous", commit="c2"),
        release("i1", "tb:c1", "tb:c1-dirty", commit="c1"),
    ]
    assert images.prune_candidates(newest_first, "tb", keep=2) == ["tb:c3", "tb:c1", "tb:c1-dirty"]
    assert images.prune_candidates(newest_first, "tb", keep=5) == []


def test_prune_never_touches_unlabelled_images() -> None:
    base = ReleaseImage("b", "", "", dirty=False, tags=("tb:base",))
    assert images.prune_candidates([base, release("i1", "tb:c1", commit="c1")], "tb", keep=0) == ["tb:c1"]


def test_created_times_compare_as_times_not_strings() -> None:
    assert images.created_at("2026-11-22T00:50:01.12345Z") < images.created_at("2026-11-22T00:50:01.123456789Z")
    assert "2026-11-22T00:50:01.12345Z" > "2026-11-22T00:50:01.123456789Z"  # why: string order is wrong here
