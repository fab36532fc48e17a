from deploy.records import builds
from deploy.verify import provenance

COMMIT = "sha256:" + "c" * 64
OTHER = "sha256:" + "f" * 64


def test_the_commits_code_layer_on_top_passes() -> None:
    point = provenance.code_layer_point(COMMIT, ["sha256:base", COMMIT], COMMIT)
    assert point.ok and point.digest == COMMIT


def test_another_code_layer_is_named_with_both_digests() -> None:
    point = provenance.code_layer_point(COMMIT, ["sha256:base", OTHER], COMMIT)
    assert point.problems == ("the image's code layer is ffffffffffff, the commit's is cccccccccccc",)


def test_a_label_declaring_another_layer_is_named_too() -> None:
    point = provenance.code_layer_point(COMMIT, [COMMIT], OTHER)
    assert point.problems == ("label declares code layer ffffffffffff, the commit's is cccccccccccc",)


def test_an_image_without_layers_fails() -> None:
    assert not provenance.code_layer_point(COMMIT, [], None).ok


BASE, RUNTIME, CODE, EVIL = ("sha256:" + c * 64 for c in "abde")
RECORDED = builds.Build("1" * 40, "sha256:" + "9" * 64, (BASE, RUNTIME, CODE))


def test_the_recorded_build_of_its_commit_is_the_release_image() -> None:
    point = provenance.release_image_point(RECORDED.image_id, RECORDED.layers, RECORDED.commit, [RECORDED])
    assert point.ok and point.name == "release image" and point.digest == RECORDED.image_id


def test_an_image_rebuilt_with_a_layer_under_the_code_layer_is_named_with_where_its_layers_differ() -> None:
    forged = "sha256:" + "6" * 64
    point = provenance.release_image_point(forged, (BASE, RUNTIME, EVIL, CODE), RECORDED.commit, [RECORDED])
    assert point.problems == (
        "the live image is 666666666666, the build of 111111111111 is 999999999999: "
        "its layers differ from layer 3 of 4 on (the recorded 3)",
    )


def test_a_recorded_image_of_another_commit_or_no_record_at_all_is_named() -> None:
    other = provenance.release_image_point(RECORDED.image_id, RECORDED.layers, "2" * 40, [RECORDED])
    assert other.problems == (
        "no build of 222222222222 is recorded: image 999999999999 was not built by this pipeline",
    )
    assert not provenance.release_image_point(RECORDED.image_id, RECORDED.layers, RECORDED.commit, []).ok
