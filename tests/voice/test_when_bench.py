"""The date benchmark's scoring rule (bench/dates.py): what counts as an exact answer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bench.dates import Case, Duration, Interval, Point, matches, reading_of
from fieldsync.voice.when import resolve_when

UTC = timezone.utc
REF = datetime(2016, 11, 7, tzinfo=UTC)


def case(kind: str, *vals: str) -> Case:
    return Case("t", "en", "x", REF, ((kind, vals),), "test")


def d(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_date_needs_the_day_not_a_finer_time() -> None:
    """A date matches a day-grain point on that day, not an hour on it or another day."""
    assert matches(Point(d(2016, 11, 8), "day"), case("date", "2016-11-08"))
    assert not matches(Point(d(2016, 11, 8, 15), "hour"), case("date", "2016-11-08"))
    assert not matches(Point(d(2016, 11, 9), "day"), case("date", "2016-11-08"))


def test_daterange_end_conventions() -> None:
    """A daterange end may be exclusive or the start of the last day/month, nothing looser."""
    assert matches(Interval(d(2016, 11, 14), d(2016, 11, 21)), case("daterange", "2016-11-14", "2016-11-21"))
    assert matches(Interval(d(2016, 3, 1), d(2016, 6, 1)), case("daterange", "2016-03-01", "2016-05-01"))
    assert not matches(Interval(d(2016, 3, 1), d(2016, 7, 1)), case("daterange", "2016-03-01", "2016-05-01"))
    assert not matches(Interval(d(2016, 3, 2), d(2016, 5, 1)), case("daterange", "2016-03-01", "2016-05-01"))


def test_negative_case_needs_nothing() -> None:
    """A spec entry without results is exact only when nothing is found."""
    neg = Case("t", "en", "x", REF, (), "test")
    assert matches(None, neg)
    assert not matches(Point(REF, "day"), neg)


def test_jionlp_inclusive_end() -> None:
    """A JioNLP [S, E] span is matched by the exclusive interval [S, E+1s) or a point of that grain."""
    jio = Case("t", "zh", "x", REF, (("jio", ("2021-06-14 00:00:00", "2021-06-14 23:59:59")),), "test")
    assert matches(Point(d(2021, 6, 14), "day"), jio)
    assert matches(Interval(d(2021, 6, 14), d(2021, 6, 15)), jio)
    assert not matches(Interval(d(2021, 6, 14), d(2021, 6, 16)), jio)


def test_duration_in_seconds() -> None:
    """A duration matches on its length in seconds."""
    assert matches(Duration(5400.0), case("duration", "5400"))
    assert not matches(Duration(3600.0), case("duration", "5400"))


def test_our_reading_of_a_resolved_interval() -> None:
    """reading_of turns an interval When into an Interval reading."""
    w = resolve_when("next week", reference=REF, lang="en")
    assert reading_of(w) == Interval(d(2016, 11, 14), d(2016, 11, 21))
    assert reading_of(None) is None
    assert reading_of(resolve_when("for 2 hours", reference=REF, lang="en")) == Duration(
        timedelta(hours=2).total_seconds())
