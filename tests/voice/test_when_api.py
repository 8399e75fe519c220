"""The public surface of fieldsync.voice.when: signatures, values, language choice, edge cases."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fieldsync.voice.when as when_pkg
from fieldsync.voice.when import When, find_whens, resolve_when
from fieldsync.voice.when.numerals_zh import zh_number, zh_year

REF = datetime(2026, 11, 22, 17, 5, tzinfo=timezone(timedelta(hours=8)))


def test_public_surface_is_pinned() -> None:
    """The package exports exactly When, find_whens and resolve_when."""
    assert sorted(when_pkg.__all__) == ["When", "find_whens", "resolve_when"]


def test_when_is_a_frozen_slotted_value() -> None:
    """When is an immutable dataclass with slots."""
    w = resolve_when("tomorrow", reference=REF, lang="en")
    assert w is not None
    assert dataclasses.is_dataclass(w) and not hasattr(w, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.grain = "year"  # type: ignore[misc]


def test_naive_reference_is_refused() -> None:
    """A reference without a time zone is an error, not a silent guess."""
    with pytest.raises(ValueError):
        resolve_when("tomorrow", reference=datetime(2026, 11, 22, 17, 5), lang="en")


def test_unknown_language_is_refused() -> None:
    """Only en, zh and auto are accepted."""
    with pytest.raises(ValueError):
        resolve_when("tomorrow", reference=REF, lang="fr")


def test_auto_language_picks_by_script() -> None:
    """lang='auto' reads Han text as Chinese and the rest as English."""
    zh = resolve_when("明天下午三点", reference=REF, lang="auto")
    en = resolve_when("tomorrow at 3pm", reference=REF, lang="auto")
    assert zh is not None and en is not None and zh.start == en.start


def test_results_stay_in_the_reference_zone_across_dst() -> None:
    """Resolved datetimes carry the reference's zone, and the wall time survives a DST change."""
    ny = ZoneInfo("America/New_York")
    ref = datetime(2026, 10, 30, 9, 0, tzinfo=ny)
    w = resolve_when("next Tuesday at 10am", reference=ref, lang="en")
    assert w is not None
    assert w.start.tzinfo is ny
    assert (w.start.month, w.start.day, w.start.hour) == (11, 3, 10)
    assert w.start.utcoffset() == timedelta(hours=-5)


def test_a_memo_uploaded_a_day_later_resolves_from_the_recording() -> None:
    """'tomorrow' depends only on the reference passed in, so a late upload changes nothing."""
    recorded = REF
    w = resolve_when("call back tomorrow", reference=recorded, lang="en")
    assert w is not None and w.start.date() == (recorded + timedelta(days=1)).date()


def test_span_matches_text() -> None:
    """Every When's span cuts its text out of the input."""
    text = "Meet at Acme on 3 December at 10am, then send the quote by Friday."
    for w in find_whens(text, reference=REF, lang="en"):
        assert text[w.span[0]:w.span[1]] == w.text


@pytest.mark.parametrize(("text", "value"), [("二十", 20), ("两", 2), ("十二", 12), ("廿五", 25), ("二〇二六", 2026),
                                             ("一万二千", 12000), ("一百零五", 105), ("１２", 12), ("卅", 30)])
def test_chinese_numerals(text: str, value: int) -> None:
    """Chinese numerals, including 两, 廿, 卅, 〇 and full-width digits, read as numbers."""
    assert zh_number(text) == value


def test_short_chinese_years_pick_the_nearest_century() -> None:
    """Two-digit years resolve to the century nearest the reference."""
    assert zh_year("九七", 2021) == 1997
    assert zh_year("26", 2026) == 2026


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc 0123456789:/-.,年月日号点周下上午晚天后前一二三十半 amtoprnd")),
               max_size=40),
       st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2090, 1, 1)),
       st.sampled_from(["en", "zh"]))
def test_never_crashes_and_spans_are_sound(text: str, naive: datetime, lang: str) -> None:
    """On arbitrary text the resolver returns ordered, non-overlapping, aware results without raising."""
    ref = naive.replace(tzinfo=timezone.utc)
    found = find_whens(text, reference=ref, lang=lang)
    last_end = 0
    for w in found:
        assert isinstance(w, When)
        assert w.start.tzinfo is not None
        assert w.span[0] >= last_end and w.span[0] < w.span[1] <= len(text)
        assert w.end is None or w.end >= w.start
        last_end = w.span[1]


def test_resolve_when_prefers_a_moment_over_a_duration() -> None:
    """With a duration first and a date after it, resolve_when returns the date."""
    w = resolve_when("for 2 hours tomorrow", reference=REF, lang="en")
    assert w is not None and w.kind == "point" and w.text == "tomorrow"
    d = resolve_when("for 2 hours", reference=REF, lang="en")
    assert d is not None and d.kind == "duration"


def test_hours_from_now_count_elapsed_time_across_dst() -> None:
    """'in 3 hours' on the night clocks go back is three real hours later, not three wall-clock hours."""
    ny = ZoneInfo("America/New_York")
    ref = datetime(2026, 11, 1, 0, 30, tzinfo=ny)  # DST ends at 02:00 that night
    w = resolve_when("in 3 hours", reference=ref, lang="en")
    assert w is not None
    assert w.start.astimezone(timezone.utc) - ref.astimezone(timezone.utc) == timedelta(hours=3)
    assert (w.start.hour, w.start.minute) == (2, 30)  # wall-clock arithmetic would say 03:30
