from deploy.ids import short


def test_commits_image_ids_and_digests_shorten_to_twelve_hex_digits() -> None:
    assert short("c0ffee" + "0" * 34) == "c0ffee000000"
    assert short("sha256:" + "ab" * 32) == "abababababab"
    assert short("") == ""
