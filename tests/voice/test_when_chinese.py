"""Chinese date/time resolution against fixed reference times (never the wall clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fieldsync.voice.when import When, find_whens, resolve_when

CST = timezone(timedelta(hours=8))
SUNDAY = datetime(2026, 11, 22, 17, 5, tzinfo=CST)  # 星期日
WEDNESDAY = datetime(2026, 3, 11, 9, 30, tzinfo=CST)  # 星期三


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=CST)


def zh(text: str, ref: datetime = SUNDAY) -> When:
    w = resolve_when(text, reference=ref, lang="zh")
    assert w is not None, text
    return w


POINTS = [
    ("下周二下午三点", SUNDAY, at(2026, 11, 24, 15)),
    ("今天", SUNDAY, at(2026, 11, 22)),
    ("明天", SUNDAY, at(2026, 11, 23)),
    ("后天", SUNDAY, at(2026, 11, 24)),
    ("大后天", SUNDAY, at(2026, 11, 25)),
    ("昨天", SUNDAY, at(2026, 11, 21)),
    ("前天", SUNDAY, at(2026, 11, 20)),
    ("下星期二", SUNDAY, at(2026, 11, 24)),
    ("下礼拜二", SUNDAY, at(2026, 11, 24)),
    ("本周五", WEDNESDAY, at(2026, 3, 13)),
    ("这周五", WEDNESDAY, at(2026, 3, 13)),
    ("周五", WEDNESDAY, at(2026, 3, 13)),
    ("下周五", WEDNESDAY, at(2026, 3, 20)),
    ("上周一", WEDNESDAY, at(2026, 3, 2)),
    ("明天下午三点", SUNDAY, at(2026, 11, 23, 15)),
    ("明天三点半", SUNDAY, at(2026, 11, 23, 15, 30)),
    ("明天十五点", SUNDAY, at(2026, 11, 23, 15)),
    ("明天晚上八点", SUNDAY, at(2026, 11, 23, 20)),
    ("后天上午十点一刻", SUNDAY, at(2026, 11, 24, 10, 15)),
    ("明天凌晨两点", SUNDAY, at(2026, 11, 23, 2)),
    ("明天中午一点", SUNDAY, at(2026, 11, 23, 13)),
    ("今晚十二点", SUNDAY, at(2026, 11, 23, 0)),
    ("三天后", SUNDAY, at(2026, 11, 25)),
    ("两周后", SUNDAY, at(2026, 12, 6)),
    ("一个月后", SUNDAY, at(2026, 12, 22)),
    ("两个小时后", SUNDAY, at(2026, 11, 22, 19, 5)),
    ("11月5号", WEDNESDAY, at(2026, 11, 5)),
    ("十一月五日", WEDNESDAY, at(2026, 11, 5)),
    ("2026年3月1日", SUNDAY, at(2026, 3, 1)),
    ("二〇二七年一月二十日", SUNDAY, at(2027, 1, 20)),
    ("下个月五号", SUNDAY, at(2026, 12, 5)),
    ("廿五号", SUNDAY, at(2026, 11, 25)),
    ("元旦", SUNDAY, at(2027, 1, 1)),
    ("国庆节", SUNDAY, at(2027, 10, 1)),
    ("春节", SUNDAY, at(2027, 2, 6)),
    ("中秋节", WEDNESDAY, at(2026, 9, 25)),
    ("除夕", SUNDAY, at(2027, 2, 5)),
    ("2026-12-01 14:30", SUNDAY, at(2026, 12, 1, 14, 30)),
]


@pytest.mark.parametrize(("text", "ref", "expected"), POINTS, ids=[p[0] for p in POINTS])
def test_point_expressions(text: str, ref: datetime, expected: datetime) -> None:
    """Each Chinese point expression resolves to the expected instant in the reference's zone."""
    w = zh(text, ref)
    assert w.end is None
    assert w.start == expected


INTERVALS = [
    ("下周", SUNDAY, at(2026, 11, 23), at(2026, 11, 30)),
    ("下个月", SUNDAY, at(2026, 12, 1), at(2027, 1, 1)),
    ("下月中旬", SUNDAY, at(2026, 12, 11), at(2026, 12, 21)),
    ("月初", WEDNESDAY, at(2026, 3, 1), at(2026, 3, 6)),
    ("年底", WEDNESDAY, at(2026, 11, 1), at(2027, 1, 1)),
    ("月底前", SUNDAY, at(2026, 11, 22, 17, 5), at(2026, 12, 1)),
    ("三天内", SUNDAY, SUNDAY, at(2026, 11, 26)),
    ("今天下午1点到3点十分", WEDNESDAY, at(2026, 3, 11, 13), at(2026, 3, 11, 15, 10)),
    ("明天上午九点到十一点", SUNDAY, at(2026, 11, 23, 9), at(2026, 11, 23, 11)),
    ("从周一到周三", WEDNESDAY, at(2026, 3, 16), at(2026, 3, 19)),
    ("明天下午", SUNDAY, at(2026, 11, 23, 12), at(2026, 11, 23, 16)),
    ("2025年第一季度", SUNDAY, at(2025, 1, 1), at(2025, 4, 1)),
    ("本季度", SUNDAY, at(2026, 10, 1), at(2027, 1, 1)),
    ("今年", SUNDAY, at(2026, 1, 1), at(2027, 1, 1)),
    ("3月第二周", WEDNESDAY, at(2026, 3, 9), at(2026, 3, 16)),
]


@pytest.mark.parametrize(("text", "ref", "start", "end"), INTERVALS, ids=[i[0] for i in INTERVALS])
def test_interval_expressions(text: str, ref: datetime, start: datetime, end: datetime) -> None:
    """Each Chinese period or range resolves to the expected [start, end) interval."""
    w = zh(text, ref)
    assert (w.start, w.end) == (start, end)


def test_next_week_tuesday_from_sunday_is_two_days_later() -> None:
    """下周二 said on Sunday 2026-11-22 is Tuesday 2026-11-24: Chinese weeks start on Monday."""
    assert zh("下周二下午三点").start == at(2026, 11, 24, 15)


def test_memo_sentence_due_date_is_one_when() -> None:
    """In a Chinese memo the date and the time fuse into one When with its span."""
    text = "下周二下午三点给华东电气的王总回电话，报价改成二十万"
    found = find_whens(text, reference=SUNDAY, lang="zh")
    assert len(found) == 1
    assert found[0].text == "下周二下午三点"
    assert found[0].span == (0, 7)


def test_bare_clock_reads_business_hours() -> None:
    """三点 without 上午/下午 is 15:00, 九点 is 09:00."""
    assert zh("明天三点").start == at(2026, 11, 23, 15)
    assert zh("明天九点").start == at(2026, 11, 23, 9)


def test_chinese_numerals_everywhere() -> None:
    """Dates written with 二十, 两, 十二 and 廿 resolve like Arabic digits."""
    assert zh("十二月二十日", SUNDAY).start == at(2026, 12, 20)
    assert zh("两天后", SUNDAY).start == at(2026, 11, 24)
    assert zh("廿八号", SUNDAY).start == at(2026, 11, 28)


def test_traditional_characters_and_full_width_digits() -> None:
    """週二 and full-width digits are read like 周二 and ASCII digits."""
    assert zh("下週二", SUNDAY).start == at(2026, 11, 24)
    assert zh("１２月１日", SUNDAY).start == at(2026, 12, 1)


def test_duration() -> None:
    """两个半小时 is a duration of 2.5 hours."""
    w = zh("两个半小时")
    assert w.kind == "duration" and w.duration == timedelta(hours=2.5)


@pytest.mark.parametrize("text", ["给王总回电话", "报价改成二十万", "这个玩具一点都不好玩", "身份证号140302197706220124"])
def test_no_time_expression_gives_none(text: str) -> None:
    """Chinese text without a time expression resolves to None."""
    assert resolve_when(text, reference=SUNDAY, lang="zh") is None


def test_since_reaches_the_reference() -> None:
    """X起 / X至今 is the interval from X up to the reference."""
    w = zh("从2001年起至今", SUNDAY)
    assert (w.start, w.end) == (at(2001, 1, 1), SUNDAY)


def test_before_a_time_is_an_inclusive_deadline() -> None:
    """下周五前 runs from the reference to the end of next Friday."""
    w = zh("下周五前发给李总")
    assert (w.start, w.end, w.text) == (SUNDAY, at(2026, 11, 28), "下周五前")


def test_qian_wang_is_not_a_deadline() -> None:
    """In 下周五前往上海 the 前 belongs to 前往 (go to), so the date stays a day."""
    w = zh("下周五前往上海")
    assert (w.start, w.end, w.text) == (at(2026, 11, 27), None, "下周五")


def test_within_a_period_runs_to_its_end() -> None:
    """本周内 said on Sunday runs from the reference to the end of that Sunday."""
    w = zh("本周内回复客户")
    assert (w.start, w.end, w.text) == (SUNDAY, at(2026, 11, 23), "本周内")


def test_recurring_meeting_is_a_set_with_its_clock() -> None:
    """每周一上午九点 is a weekly set whose first occurrence is Monday 09:00."""
    w = zh("每周一上午九点例会")
    assert (w.kind, w.recurrence, w.start, w.text) == ("set", "P1W", at(2026, 11, 23, 9), "每周一上午九点")


def test_lunar_and_solar_term_dates() -> None:
    """农历 dates convert through the lunar tables and 清明 follows the solar-term rule."""
    assert zh("农历八月十五", WEDNESDAY).start == at(2026, 9, 25)
    assert zh("清明节", WEDNESDAY).start == at(2026, 4, 5)
    assert zh("2024年冬至", WEDNESDAY).start == at(2024, 12, 21)


def test_nth_week_of_month_counts_from_the_first_monday() -> None:
    """3月第二周 is the second Monday-started week of March (JioNLP's reading)."""
    w = zh("2026年3月第二周")
    assert (w.start, w.end) == (at(2026, 3, 9), at(2026, 3, 16))


def test_right_month_inherits_the_left_year() -> None:
    """2017年8月至11月 runs August to November 2017."""
    w = zh("2017年8月至11月")
    assert (w.start, w.end) == (at(2017, 8, 1), at(2017, 12, 1))


def test_decades_and_halves() -> None:
    """九十年代 is 1990-1999 and 下半年 the second half of this year."""
    w = zh("九十年代")
    assert (w.start, w.end) == (at(1990, 1, 1), at(2000, 1, 1))
    w = zh("下半年")
    assert (w.start, w.end) == (at(2026, 7, 1), at(2027, 1, 1))


def test_idiom_yidian_is_not_a_clock_time() -> None:
    """一点 meaning 'a bit' (便宜一点) is not one o'clock."""
    assert resolve_when("价格能不能便宜一点", reference=SUNDAY, lang="zh") is None
