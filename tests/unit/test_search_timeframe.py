from datetime import UTC, datetime

import pytest

from engine.search._timeframe import parse_timeframe

NOW = datetime(2023, 10, 22, 15, 0, tzinfo=UTC)


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("What did Melanie show on October 13, 2023?", day(2023, 10, 13), day(2023, 10, 14)),
        ("What did Gina find on 1 February, 2023?", day(2023, 2, 1), day(2023, 2, 2)),
        ("the book Tim finished on 8th December, 2022", day(2022, 12, 8), day(2022, 12, 9)),
        ("notes from 2023-05-08", day(2023, 5, 8), day(2023, 5, 9)),
        ("What class did Maria start in December 2022?", day(2022, 12, 1), day(2023, 1, 1)),
        ("camping in June", day(2023, 6, 1), day(2023, 7, 1)),
        ("what happened in November", day(2022, 11, 1), day(2022, 12, 1)),
        ("the trip in 2022", day(2022, 1, 1), day(2023, 1, 1)),
        ("what did Joanna write yesterday", day(2023, 10, 21), day(2023, 10, 22)),
        ("what happened last month", day(2023, 9, 1), day(2023, 10, 1)),
        ("the party last weekend", day(2023, 10, 14), day(2023, 10, 16)),
        ("last weekend before April 10, 2023", day(2023, 3, 28), day(2023, 4, 11)),
    ],
)
def test_query_dates_become_the_span_they_name(query: str, start: datetime, end: datetime) -> None:
    frame = parse_timeframe(query, NOW)
    assert (frame.start, frame.end) == (start, end)


def test_date_words_are_left_out_of_the_words_to_match() -> None:
    frame = parse_timeframe("What painting did Melanie show on October 13, 2023?", NOW)
    assert "October" not in frame.rest
    assert "2023" not in frame.rest
    assert "painting" in frame.rest


def test_may_the_verb_is_not_a_month() -> None:
    frame = parse_timeframe("May I ask what Caroline may like?", NOW)
    assert frame.start is None
    assert frame.end is None


def test_recently_asks_for_the_newest_without_a_span() -> None:
    frame = parse_timeframe("What did Melanie paint recently?", NOW)
    assert frame.recent
    assert frame.start is None
    assert "recently" not in frame.rest


def test_a_query_without_time_is_left_whole() -> None:
    frame = parse_timeframe("What is Caroline's identity?", NOW)
    assert frame == parse_timeframe("What is Caroline's identity?", NOW)
    assert (frame.start, frame.end, frame.recent) == (None, None, False)
    assert frame.rest == "What is Caroline's identity?"


def test_an_impossible_date_is_ignored() -> None:
    frame = parse_timeframe("on 31 February, 2023", NOW)
    assert (frame.start, frame.end) == (day(2023, 2, 1), day(2023, 3, 1))
