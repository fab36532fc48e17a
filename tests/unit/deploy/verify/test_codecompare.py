from deploy.verify.codecompare import Difference, Kind, Observation, compare, differences
from trading import codedigest

COMMIT = {"__init__.py": "a1", "bot.py": "b1", "lib/feed.py": "c1"}


def test_equal_maps_have_no_differences() -> None:
    assert differences(COMMIT, dict(COMMIT)) == []


def test_missing_extra_and_changed_files_are_named_sorted_by_path() -> None:
    actual = {"__init__.py": "a1", "bot.py": "XX", "evil.py": "e1"}
    assert differences(COMMIT, actual) == [
        Difference("bot.py", Kind.CHANGED),
        Difference("evil.py", Kind.EXTRA),
        Difference("lib/feed.py", Kind.MISSING),
    ]


def test_a_subset_may_lack_files_but_not_add_or_change_them() -> None:
    assert differences(COMMIT, {"bot.py": "b1"}, subset=True) == []
    assert differences(COMMIT, {"bot.py": "b2", "x.py": "1"}, subset=True) == [
        Difference("bot.py", Kind.CHANGED),
        Difference("x.py", Kind.EXTRA),
    ]


def test_a_matching_filesystem_point_is_ok_with_the_commit_digest() -> None:
    result = compare(COMMIT, Observation("image", files=dict(COMMIT)))
    assert result.ok
    assert result.digest == codedigest.digest(COMMIT)


def test_a_changed_file_in_a_container_fails_the_point_and_names_it() -> None:
    result = compare(COMMIT, Observation("worker container", files={**COMMIT, "bot.py": "b2"}))
    assert not result.ok
    assert [str(d) for d in result.differences] == ["changed bot.py"]
    assert result.digest != codedigest.digest(COMMIT)


def test_imported_code_is_a_subset_from_the_code_path() -> None:
    seen = Observation("bot imported", files={"bot.py": "b1"}, imported_from="/app/trading")
    assert compare(COMMIT, seen).ok


def test_imported_code_from_another_path_is_a_problem_even_when_files_match() -> None:
    seen = Observation("bot imported", files={"bot.py": "b1"}, imported_from="/var/lib/tradebot/trading")
    result = compare(COMMIT, seen)
    assert not result.ok
    assert result.problems == ("code imported from /var/lib/tradebot/trading, not from /app/trading",)


def test_a_declared_digest_matches_or_is_a_problem() -> None:
    assert compare(COMMIT, Observation("label", declared_digest=codedigest.digest(COMMIT))).ok
    wrong = compare(COMMIT, Observation("label", declared_digest="f" * 64))
    assert not wrong.ok
    assert "declares digest ffffffffffff" in wrong.problems[0]


def test_a_point_that_could_not_be_read_fails_with_its_reason() -> None:
    result = compare(COMMIT, Observation("bot container", error="no running bot container"))
    assert not result.ok
    assert result.problems == ("no running bot container",)
    assert result.to_json()["ok"] is False
