"""English date/time resolution against fixed reference times (never the wall clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fieldsync.voice.when import When, find_whens, resolve_when

CST = timezone(timedelta(hours=8))
# Sunday 2026-11-22 17:05 +08:00, the reference the issue uses.
SUNDAY = datetime(2026, 11, 22, 17, 5, tzinfo=CST)
# Wednesday 2026-03-11 09:30 +08:00, a mid-week reference.
WEDNESDAY = datetime(2026, 3, 11, 9, 30, tzinfo=CST)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=CST)


def en(text: str, ref: datetime = SUNDAY) -> When:
    w = resolve_when(text, reference=ref, lang="en")
    assert w is not None, text
    return w


POINTS = [
    ("next Tuesday at 3", SUNDAY, at(2026, 11, 24, 15)),
    ("tomorrow", SUNDAY, at(2026, 11, 23)),
    ("the day after tomorrow", SUNDAY, at(2026, 11, 24)),
    ("yesterday", SUNDAY, at(2026, 11, 21)),
    ("today at noon", WEDNESDAY, at(2026, 3, 11, 12)),
    ("in 3 days", SUNDAY, at(2026, 11, 25)),
    ("in two weeks", SUNDAY, at(2026, 12, 6)),
    ("two days ago", SUNDAY, at(2026, 11, 20)),
    ("in 3 hours", SUNDAY, at(2026, 11, 22, 20, 5)),
    ("on Tuesday", WEDNESDAY, at(2026, 3, 17)),
    ("by Friday", WEDNESDAY, at(2026, 3, 13)),
    ("this Friday", WEDNESDAY, at(2026, 3, 13)),
    ("next Friday", WEDNESDAY, at(2026, 3, 20)),
    ("last Monday", WEDNESDAY, at(2026, 3, 2)),
    ("tomorrow at 3:30pm", SUNDAY, at(2026, 11, 23, 15, 30)),
    ("Jan 4th 2019", SUNDAY, at(2019, 1, 4)),
    ("4 January 2027 at 10am", SUNDAY, at(2027, 1, 4, 10)),
    ("2026-12-01", SUNDAY, at(2026, 12, 1)),
    ("12/24/2026", SUNDAY, at(2026, 12, 24)),
    ("March 3rd", SUNDAY, at(2027, 3, 3)),
    ("christmas", SUNDAY, at(2026, 12, 25)),
    ("thanksgiving", SUNDAY, at(2026, 11, 26)),
    ("tonight at 7", SUNDAY, at(2026, 11, 22, 19)),
    ("tomorrow morning at 7", SUNDAY, at(2026, 11, 23, 7)),
    ("half past four tomorrow", SUNDAY, at(2026, 11, 23, 16, 30)),
    ("a quarter to ten tomorrow", SUNDAY, at(2026, 11, 23, 9, 45)),
    ("twenty-first of December", SUNDAY, at(2026, 12, 21)),
    ("end of day", WEDNESDAY, at(2026, 3, 11, 23, 59, 59)),
    ("the first Monday of next month", SUNDAY, at(2026, 12, 7)),
    ("1 month 21 days ago", WEDNESDAY, at(2026, 1, 21)),
]


@pytest.mark.parametrize(("text", "ref", "expected"), POINTS, ids=[p[0] for p in POINTS])
def test_point_expressions(text: str, ref: datetime, expected: datetime) -> None:
    """Each English point expression resolves to the expected instant in the reference's zone."""
    w = en(text, ref)
    assert w.end is None
    assert w.start == expected
    assert w.start.utcoffset() == timedelta(hours=8)


INTERVALS = [
    ("from 2 to 4pm", SUNDAY, at(2026, 11, 23, 14), at(2026, 11, 23, 16)),
    ("between Monday and Wednesday", WEDNESDAY, at(2026, 3, 16), at(2026, 3, 19)),
    ("next week", SUNDAY, at(2026, 11, 23), at(2026, 11, 30)),
    ("next month", SUNDAY, at(2026, 12, 1), at(2027, 1, 1)),
    ("end of the month", WEDNESDAY, at(2026, 3, 16), at(2026, 4, 1)),
    ("early next week", WEDNESDAY, at(2026, 3, 16), at(2026, 3, 19)),
    ("this afternoon", WEDNESDAY, at(2026, 3, 11, 12), at(2026, 3, 11, 16)),
    ("tomorrow morning", SUNDAY, at(2026, 11, 23, 8), at(2026, 11, 23, 12)),
    ("this weekend", WEDNESDAY, at(2026, 3, 14), at(2026, 3, 16)),
    ("from 9 for 2 hours", WEDNESDAY, at(2026, 3, 11, 9), at(2026, 3, 11, 11)),
    ("between 3 and 5pm next Monday", WEDNESDAY, at(2026, 3, 16, 15), at(2026, 3, 16, 17)),
    ("Dec 1-5", SUNDAY, at(2026, 12, 1), at(2026, 12, 6)),
    ("within the next 3 days", SUNDAY, SUNDAY, at(2026, 11, 26)),
    ("Q1 2027", SUNDAY, at(2027, 1, 1), at(2027, 4, 1)),
]


@pytest.mark.parametrize(("text", "ref", "start", "end"), INTERVALS, ids=[i[0] for i in INTERVALS])
def test_interval_expressions(text: str, ref: datetime, start: datetime, end: datetime) -> None:
    """Each English period or range resolves to the expected [start, end) interval."""
    w = en(text, ref)
    assert (w.start, w.end) == (start, end)
    assert w.is_interval


def test_next_tuesday_said_on_sunday_is_the_coming_tuesday() -> None:
    """On a Sunday, 'next Tuesday' is two days later: weeks start on Monday."""
    assert en("next Tuesday", SUNDAY).start == at(2026, 11, 24)


def test_next_weekday_midweek_is_in_next_calendar_week() -> None:
    """On a Wednesday, 'next Thursday' skips tomorrow and lands in next week."""
    assert en("next Thursday", WEDNESDAY).start == at(2026, 3, 19)


def test_bare_clock_time_reads_business_hours() -> None:
    """'at 3' with no am/pm is 15:00 and 'at 9' is 09:00 (business-hours reading)."""
    assert en("at 3", WEDNESDAY).start == at(2026, 3, 11, 15)
    assert en("at 9", SUNDAY).start == at(2026, 11, 23, 9)


def test_bare_time_already_past_moves_to_next_day() -> None:
    """A clock time without a day that has already passed today means tomorrow."""
    assert en("at 10am", SUNDAY).start == at(2026, 11, 23, 10)
    assert en("at 10am", WEDNESDAY).start == at(2026, 3, 11, 10)


def test_tomorrow_is_relative_to_the_reference_not_now() -> None:
    """'tomorrow' follows the recording time even when it lies years back."""
    old = datetime(2019, 2, 28, 23, 50, tzinfo=timezone.utc)
    assert en("tomorrow", old).start == datetime(2019, 3, 1, tzinfo=timezone.utc)


def test_date_and_time_in_a_memo_sentence_come_back_as_one() -> None:
    """The due date inside a memo sentence is one When covering 'next Tuesday at 3'."""
    text = "Call Mr. Wang at Acme next Tuesday at 3 about the revised quote, 200 thousand"
    found = find_whens(text, reference=SUNDAY, lang="en")
    assert len(found) == 1
    assert found[0].text == "next Tuesday at 3"
    assert text[found[0].span[0]:found[0].span[1]] == found[0].text
    assert found[0].start == at(2026, 11, 24, 15)


def test_several_expressions_come_back_in_order() -> None:
    """find_whens returns every expression of a sentence, left to right."""
    found = find_whens("Send the deck tomorrow and call them on Friday at 10am", reference=SUNDAY, lang="en")
    assert [w.text for w in found] == ["tomorrow", "on Friday at 10am"]
    assert found[1].start == at(2026, 11, 27, 10)


@pytest.mark.parametrize("text", ["Call Mr. Wang about the revised quote", "We sold 200 units", "may I call you",
                                  "", "Acme wants a discount of 3 percent", "Mortgages were at 6.45 percent",
                                  "deliver 2000 pieces of toys", "Tel: +86 138-2010-2015-86", "This may or may not work",
                                  "Good morning Paul", "the ratio was 30/4.85"])
def test_no_time_expression_gives_none(text: str) -> None:
    """Text without a time expression resolves to None."""
    assert resolve_when(text, reference=SUNDAY, lang="en") is None


def test_duration_carries_its_length() -> None:
    """'for 90 minutes' is a duration When with the length in ``duration``."""
    w = en("for 90 minutes")
    assert w.kind == "duration" and w.duration == timedelta(minutes=90)


def test_recurring_set_carries_its_rule() -> None:
    """'every Monday' is a set whose first occurrence is the coming Monday."""
    w = en("every Monday", WEDNESDAY)
    assert w.kind == "set" and w.recurrence == "P1W" and w.start == at(2026, 3, 16)


def test_numbers_in_words() -> None:
    """Numbers spelled out resolve like digits."""
    assert en("in twenty-one days", SUNDAY).start == at(2026, 12, 13)
    assert en("at seven thirty pm", SUNDAY).start == at(2026, 11, 22, 19, 30)


def test_before_is_an_exclusive_deadline() -> None:
    """'before Christmas' runs from the reference up to the start of Christmas Day."""
    w = en("before Christmas")
    assert (w.start, w.end) == (SUNDAY, at(2026, 12, 25))


def test_until_is_an_inclusive_deadline() -> None:
    """'until Friday' runs from the reference to the end of Friday."""
    w = en("until Friday")
    assert (w.start, w.end) == (SUNDAY, at(2026, 11, 28))


def test_offset_counted_from_a_holiday() -> None:
    """'3 days after Christmas' counts from Christmas Day, not from the reference."""
    assert en("3 days after Christmas").start == at(2026, 12, 28)


def test_range_left_end_takes_the_right_ends_year() -> None:
    """'June-August 1992' spans June to August of 1992, not next June."""
    w = en("June-August 1992")
    assert (w.start, w.end) == (at(1992, 6, 1), at(1992, 9, 1))


def test_month_range_reaching_back_stays_in_this_year() -> None:
    """'from May to December' said in November runs May-December of this year, not from next May."""
    w = en("from May to December")
    assert (w.start, w.end) == (at(2026, 5, 1), at(2027, 1, 1))
    w = en("from May to September")  # both months are ahead: next year's
    assert (w.start, w.end) == (at(2027, 5, 1), at(2027, 10, 1))


def test_bare_right_day_belongs_to_the_left_month() -> None:
    """'from the 4th to the 23rd of next month' is days 4-23 of December."""
    w = en("from 4 to 23 next month")
    assert (w.start, w.end) == (at(2026, 12, 4), at(2026, 12, 24))


def test_nth_week_of_month_is_iso_like() -> None:
    """The first week of January 2027 is the Monday-Sunday week holding its first Thursday."""
    w = en("the first week of january 2027")
    assert (w.start, w.end) == (at(2027, 1, 4), at(2027, 1, 11))


def test_weekday_with_day_of_month_names_one_date() -> None:
    """'Friday the 27th' said in November 2026 is 27 November (a Friday)."""
    assert en("Friday the 27th").start == at(2026, 11, 27)


def test_later_this_week_starts_no_earlier_than_its_second_half() -> None:
    """'later this week' said on Wednesday runs from Thursday to the end of the week."""
    w = en("later this week", WEDNESDAY)
    assert (w.start, w.end) == (at(2026, 3, 12), at(2026, 3, 16))


def test_last_holiday_is_the_latest_past_one() -> None:
    """'last Christmas' said in November is the previous year's Christmas."""
    assert en("last christmas").start == at(2025, 12, 25)


def test_may_as_a_verb_is_not_a_month() -> None:
    """'This may take longer' has no time expression."""
    assert resolve_when("This may take longer than expected", reference=SUNDAY, lang="en") is None


def test_explicit_am_tonight_is_after_midnight() -> None:
    """'tonight at 1am' said on Sunday evening is Monday 01:00; 'tonight at 7' is 19:00."""
    assert en("tonight at 1am").start == at(2026, 11, 23, 1)
    assert en("tonight at 7").start == at(2026, 11, 22, 19)


def test_year_in_words() -> None:
    """Years said in words resolve ('June of nineteen ninety nine')."""
    w = en("June of nineteen ninety nine")
    assert (w.start, w.end) == (at(1999, 6, 1), at(1999, 7, 1))
