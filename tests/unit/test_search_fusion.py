from engine.search._fusion import Ranking, fuse_ranks
from engine.search._speakers import named_authors, without_names


def test_agreement_between_rankings_beats_one_first_place() -> None:
    fused = fuse_ranks([Ranking(["a", "b", "c"]), Ranking(["d", "b", "a"])], k=60)
    assert max(fused, key=fused.__getitem__) in {"a", "b"}
    assert fused["b"] > fused["c"]
    assert fused["a"] > fused["d"]


def test_weights_scale_a_rankings_say() -> None:
    fused = fuse_ranks([Ranking(["a"], weight=1.0), Ranking(["b"], weight=2.0)], k=10)
    assert fused["b"] == 2 * fused["a"]


def test_a_key_absent_from_every_ranking_has_no_score() -> None:
    assert fuse_ranks([Ranking([]), Ranking(["a"])], k=60) == {"a": 1 / 61}


def test_named_authors_match_first_last_and_possessive_names() -> None:
    authors = ["Caroline", "Melanie Brooks", "Mark"]
    assert named_authors("What did Caroline research?", authors) == {"Caroline"}
    assert named_authors("Where is Brooks's studio?", authors) == {"Melanie Brooks"}
    assert named_authors("Caroline's chat with Melanie", authors) == {"Caroline", "Melanie Brooks"}


def test_lowercase_words_are_not_names() -> None:
    assert named_authors("did we mark the date?", ["Mark"]) == frozenset()


def test_named_authors_leave_the_words_to_match() -> None:
    text = "What did Caroline's friend tell Melanie about Caroline?"
    assert without_names(text, ["Caroline"]) == "What did friend tell Melanie about"
    assert without_names(text, []) == text
