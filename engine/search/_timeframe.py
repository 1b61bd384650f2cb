"""Dates and relative times in a search query, turned into the span of time it asks about.

"What did Maria do on 7 July, 2023?", "camping in June", "last weekend", "recently": people
ask about memories by when they happened, and a message's ``created_at`` is when it was said.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}

# Most specific first: a span consumed by one pattern is not matched again by a later one.
_ISO = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")
_DAY_MONTH_YEAR = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s*{_YEAR}\b", re.I)
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+{_DAY},?\s*{_YEAR}\b", re.I)
_MONTH_YEAR = re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.I)
_DAY_MONTH = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b", re.I)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?!\s*(?:%|years?|days?))", re.I)
# A bare month name only after a preposition, so "may" the verb is left alone.
_IN_MONTH = re.compile(rf"\b(?P<prep>in|during|since|of|early|late|mid)\s+{_MONTH}\b", re.I)
_IN_YEAR = re.compile(rf"\b(?:(?:in|during|since|of|year)\s+)?{_YEAR}\b", re.I)
_AGO = re.compile(
    r"\b(?P<n>\d+|a|an|one|two|three|four|five|six)\s+(?P<unit>day|week|month|year)s?\s+ago\b",
    re.I,
)
_RELATIVE = re.compile(
    r"\b(?:(?P<yesterday>yesterday)|(?P<today>today|tonight|this morning)"
    r"|(?P<which>last|this|past|previous)\s+(?P<unit>week(?:end)?|month|year|"
    + "|".join(_WEEKDAYS)
    + r"))\b",
    re.I,
)
_RECENT = re.compile(r"\b(?:recent(?:ly)?|latest|lately|last time|newest)\b", re.I)
_BEFORE = re.compile(r"\b(?:before|by|as of|until|prior to)\s*$", re.I)


@dataclass(frozen=True, slots=True)
class Timeframe:
    """What a query says about time: a span it asks about and whether it wants the newest."""

    start: datetime | None = None
    end: datetime | None = None
    recent: bool = False
    #: The query without the words that said it, for lexical matching.
    rest: str = ""


def _day_span(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _month_span(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    last = calendar.monthrange(year, month)[1]
    return start, start + timedelta(days=last)


def _latest_year(month: int, day: int, now: datetime) -> int:
    """The year of the latest (month, day) not after ``now``."""
    day = min(day, calendar.monthrange(now.year, month)[1])
    return now.year if (month, day) <= (now.month, now.day) else now.year - 1


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _explicit(query: str, now: datetime) -> tuple[tuple[datetime, datetime], re.Match[str]] | None:
    for pattern in (_ISO, _DAY_MONTH_YEAR, _MONTH_DAY_YEAR):
        for m in pattern.finditer(query):
            month = _MONTHS.get(m["month"].lower().rstrip(".")) or int(m["month"])
            day = _safe_date(int(m["year"]), month, int(m["day"]))
            if day is not None:
                return _day_span(day), m
    if hit := _MONTH_YEAR.search(query):
        return _month_span(int(hit["year"]), _MONTHS[hit["month"].lower().rstrip(".")]), hit
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for m in pattern.finditer(query):
            month = _MONTHS[m["month"].lower().rstrip(".")]
            year = _latest_year(month, int(m["day"]), now)
            day = _safe_date(year, month, int(m["day"]))
            if day is not None:
                return _day_span(day), m
    if hit := _IN_MONTH.search(query):
        month = _MONTHS[hit["month"].lower().rstrip(".")]
        year = now.year if month <= now.month else now.year - 1
        return _month_span(year, month), hit
    if hit := _IN_YEAR.search(query):
        year = int(hit["year"])
        return (datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)), hit
    return None


def _relative(query: str, now: datetime) -> tuple[tuple[datetime, datetime], re.Match[str]] | None:
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if m := _AGO.search(query):
        n = _NUMBERS.get(m["n"].lower()) or int(m["n"])
        days = n * _UNIT_DAYS[m["unit"].lower()]
        center = today - timedelta(days=days)
        slack = timedelta(days=max(1, days // 4))
        return (center - slack, center + slack + timedelta(days=1)), m
    m = _RELATIVE.search(query)
    if m is None:
        return None
    if m["yesterday"]:
        return (today - timedelta(days=1), today), m
    if m["today"]:
        return (today, today + timedelta(days=1)), m
    unit = m["unit"].lower()
    current = m["which"].lower() == "this"
    if unit in _WEEKDAYS:
        back = (today.weekday() - _WEEKDAYS[unit]) % 7 or 7
        day = today - timedelta(days=back)
        return (day, day + timedelta(days=1)), m
    if unit == "weekend":
        back = (today.weekday() - 5) % 7
        # On a weekend, "last weekend" is the one before.
        saturday = today - timedelta(days=back + 7 if back < 2 else back)
        return (saturday, saturday + timedelta(days=2)), m
    if unit == "week":
        start = today - timedelta(days=7 if current else 14)
        return (start, today + timedelta(days=1)), m
    if unit == "month":
        if current:
            return _month_span(today.year, today.month), m
        first = today.replace(day=1) - timedelta(days=1)
        return _month_span(first.year, first.month), m
    year = today.year if current else today.year - 1
    return (datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)), m


def parse_timeframe(query: str, now: datetime) -> Timeframe:
    """Read the first date or relative time in ``query``, resolved against ``now``.

    "before <date>" and "as of <date>" become the fortnight leading up to that date.
    """
    found = _explicit(query, now) or _relative(query, now)
    recent = _RECENT.search(query)
    rest = _RECENT.sub(" ", query)
    if found is None:
        return Timeframe(recent=recent is not None, rest=rest)
    (start, end), match = found
    if _BEFORE.search(query[: match.start()]):
        start = end - timedelta(days=14)
    rest = _RECENT.sub(" ", query[: match.start()] + " " + query[match.end() :])
    return Timeframe(start, end, recent is not None, rest)
