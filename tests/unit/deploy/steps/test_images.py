import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.records.ledger import Tried
from deploy.steps import images
from deploy.steps.images import ReleaseImage


def release(image_id: str, *tags: str, commit: str = "c") -> ReleaseImage:
    return ReleaseImage(image_id, commit, "d", dirty=False, tags=tags)


def test_dirty_build_never_takes_the_clean_tag() -> None:
    assert images.release_tag("tb", "abc", dirty=False) == "tb:abc"
    assert images.release_tag("tb", "abc", dirty=True) == "tb:abc-dirty"


def test_labels_are_the_interface_labels() -> None:
    got = images.labels(
        commit="abc",
        created="2026-01-01T00:00:00Z",
        source="https://h/r",
        version="v1",
        code_digest="d",
        code_layer="sha256:l",
        dirty=True,
    )
    assert got == {
        "org.opencontainers.image.revision": "abc",
        "org.opencontainers.image.created": "2026-01-01T00:00:00Z",
        "org.opencontainers.image.source": "https://h/r",
        "org.opencontainers.image.version": "v1",
        "io.tradebot.code.digest": "d",
        "io.tradebot.code.layer": "sha256:l",
        "io.tradebot.dirty": "true",
    }


def test_no_source_label_without_a_remote() -> None:
    got = images.labels(commit="a", created="t", source="", version="v", code_digest="d", code_layer="l", dirty=False)
    assert images.SOURCE not in got


def test_created_is_the_commit_time() -> None:
    assert images.commit_time(1795319268) == "2026-11-22T03:47:48Z"


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://user:TOKEN@host:8443/repo.git", "https://host:8443/repo.git"),
        ("https://TOKEN@github.example/o/r?access_token=T2#frag", "https://github.example/o/r"),
        ("ssh://git@host/r.git", "ssh://host/r.git"),
        ("http://u:p@[::1]:80/x", "http://[::1]:80/x"),
        ("git@host:org/repo.git", "host:org/repo.git"),
        ("/srv/build-host/repo", ""),
        ("file:///srv/build-host/repo", ""),
        ("relative/repo", ""),
        ("", ""),
        ("https://user:\uff1a@host.example/repo.git", ""),  # a fullwidth colon: urlsplit refuses it, no label
    ],
)
def test_public_source_drops_user_info_and_host_paths(url: str, public: str) -> None:
    assert images.public_source(url) == public


@given(st.text(alphabet=st.characters(blacklist_characters="@/\\:?#[]", blacklist_categories=("Cs",)), min_size=1))
def test_public_source_never_keeps_user_info(secret: str) -> None:
    for url in (f"https://user:{secret}@host.example/repo.git", f"https://{secret}@host.example/repo.git"):
        assert images.public_source(url) in ("https://host.example/repo.git", "")  # "": a URL urlsplit refuses


def test_release_image_reads_its_labels() -> None:
    labels = images.labels(
        commit="abc", created="t", source="s", version="v", code_digest="d", code_layer="sha256:l", dirty=False
    )
    got = ReleaseImage.from_labels("sha256:1", labels, ["tb:abc"])
    expected = ReleaseImage(
        "sha256:1", "abc", "d", False, ("tb:abc",), version="v", built_at="t", code_layer="sha256:l"
    )
    assert got == expected and got.tags == expected.tags
    assert ReleaseImage.from_labels("sha256:2", None).commit == ""


def test_a_release_is_the_same_whatever_other_projects_tag_its_image() -> None:
    mine = release("sha256:1", "tb-a:abc", commit="abc")
    assert mine == release("sha256:1", "tb-a:abc", "tb-b:abc", commit="abc")  # built by another project meanwhile
    assert len({mine, release("sha256:1", commit="abc")}) == 1
    assert mine != release("sha256:2", "tb-a:abc", commit="abc")


def test_the_release_tag_is_the_commits_tag_in_its_own_repository() -> None:
    assert release("i", "tb:live", "tb:abc", commit="abc").tag_in("tb") == "tb:abc"
    assert release("i", "other:abc", "tb:abc", commit="abc").tag_in("tb") == "tb:abc"  # the same image, another project
    assert release("i", "other:abc", commit="abc").tag_in("tb") == ""
    dirty = ReleaseImage("i", "abc", "d", dirty=True, tags=("tb:abc-dirty",))
    assert dirty.tag_in("tb") == "tb:abc-dirty"
    assert release("i", "tb:live", commit="abc").tag_in("tb") == ""
    assert release("i", "tb:live", commit="").tag_in("tb") == ""


def test_own_tags_are_the_repositorys_alone_never_another_projects_of_the_same_image() -> None:
    tags = ["tb-a:live", "tb-a:abc", "tb-ab:live", "tb:live", "tb-b:abc"]
    assert images.own_tags(tags, "tb-a") == ["tb-a:live", "tb-a:abc"]


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


def test_prune_keeps_live_previous_and_the_newest_successes_failed_first() -> None:
    newest_first = [
        release("i6", "tb:c6", commit="c6"),  # failed
        release("i5", "tb:c5", "tb:live", commit="c5"),
        release("i4", "tb:c4", commit="c4"),  # failed
        release("i3", "tb:c3", commit="c3"),
        release("i2", "tb:c2", "tb:previous", commit="c2"),
        release("i1", "tb:c1", "tb:c1-dirty", commit="c1"),
        release("i0", "tb:c0", commit="c0"),  # never deployed, older than live
    ]
    tried = Tried(frozenset({"i5", "i3", "i2", "i1"}), frozenset({"i6", "i4"}))
    assert images.prune_candidates(newest_first, "tb", 1, tried) == ["tb:c6", "tb:c4", "tb:c1", "tb:c1-dirty", "tb:c0"]
    assert images.prune_candidates(newest_first, "tb", 5, tried) == ["tb:c6", "tb:c4", "tb:c0"]


def test_a_run_of_failed_deploys_never_pushes_out_the_known_good_releases() -> None:
    failed = [release(f"f{n}", f"tb:f{n}", commit=f"f{n}") for n in range(8)]
    good = [release("g2", "tb:g2", "tb:live", commit="g2"), release("g1", "tb:g1", commit="g1")]
    tried = Tried(frozenset({"g2", "g1"}), frozenset(image.image_id for image in failed))
    assert images.prune_candidates(failed + good, "tb", 1, tried) == [f"tb:f{n}" for n in range(8)]


def test_a_build_newer_than_live_waits_for_its_deploy() -> None:
    newest_first = [release("n", "tb:n", commit="n"), release("l", "tb:l", "tb:live", commit="l")]
    assert images.prune_candidates(newest_first, "tb", 0, Tried(frozenset({"l"}))) == []


def test_prune_never_touches_unlabelled_images() -> None:
    base = ReleaseImage("b", "", "", dirty=False, tags=("tb:base",))
    candidates = images.prune_candidates(
        [base, release("i1", "tb:c1", commit="c1")], "tb", 0, Tried(failed=frozenset({"i1"}))
    )
    assert candidates == ["tb:c1"]


OUTCOMES = st.sampled_from(["succeeded", "failed", "untried"])
MOVING = st.sampled_from([(), ("tb:live",), ("tb:previous",)])


@given(st.lists(st.tuples(OUTCOMES, MOVING), max_size=12), st.integers(0, 4))
def test_retention_rules_hold_for_any_history(history: list[tuple[str, tuple[str, ...]]], keep: int) -> None:
    found = [release(f"i{n}", f"tb:c{n}", *moving, commit=f"c{n}") for n, (_, moving) in enumerate(history)]
    outcome = {f"i{n}": kind for n, (kind, _) in enumerate(history)}
    tried = Tried(
        frozenset(i for i, kind in outcome.items() if kind == "succeeded"),
        frozenset(i for i, kind in outcome.items() if kind == "failed"),
    )
    doomed = images.prune_candidates(found, "tb", keep, tried)
    kept = [image for image in found if f"tb:c{image.image_id[1:]}" not in doomed]
    assert all(image in kept for image in found if set(image.tags) & {"tb:live", "tb:previous"})
    successes = [image for image in found if outcome[image.image_id] == "succeeded"]
    movable = [image for image in successes if not set(image.tags) & {"tb:live", "tb:previous"}]
    assert all(image in kept for image in movable[:keep])
    live_at = next((n for n, image in enumerate(found) if "tb:live" in image.tags), len(found))
    waiting = [image for image in found[:live_at] if outcome[image.image_id] == "untried"]
    assert all(image in kept for image in waiting)
    unprotected = [image for image in kept if image.tags == (f"tb:c{image.image_id[1:]}",)]
    assert [image for image in unprotected if image not in successes and image not in waiting] == []
    failed_first = [tag for tag in doomed if outcome[f"i{tag[4:]}"] == "failed"]
    assert doomed[: len(failed_first)] == failed_first


def test_created_times_compare_as_times_not_strings() -> None:
    assert images.created_at("2026-11-22T00:50:01.12345Z") < images.created_at("2026-11-22T00:50:01.123456789Z")
    assert "2026-11-22T00:50:01.12345Z" > "2026-11-22T00:50:01.123456789Z"  # why: string order is wrong here


def test_an_image_with_release_labels_but_no_build_record_is_unrecorded() -> None:
    ours, forged = release("i1", "tb:c1", commit="c1"), release("i2", "tb:live", commit="c1")
    base = ReleaseImage("b", "", "", dirty=False, tags=("tb:base",))
    assert images.unrecorded([ours, forged, base], {"i1"}) == [forged]
