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
