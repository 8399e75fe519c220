"""Amounts: Chinese numerals, English magnitudes and words, currencies, and numbers that are not money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fieldsync.voice.amounts import find_amounts, parse_chinese_number, parse_english_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("二十万", 200_000), ("两万五", 25_000), ("三千五", 3_500), ("十二万八千", 128_000), ("一万零五百", 10_500),
        ("一百五十万", 1_500_000), ("八万八千八", 88_800), ("一百零五万", 1_050_000), ("3万", 30_000),
        ("1.5亿", 150_000_000), ("十", 10), ("二十", 20), ("一千二百", 1_200), ("两百万", 2_000_000),
    ],
)
def test_chinese_numerals(text: str, value: int) -> None:
    """Chinese numerals, spoken abbreviations (两万五) and mixed digits parse to exact values."""
    assert parse_chinese_number(text) == Decimal(value)


@pytest.mark.parametrize(
    ("words", "value"),
    [("two hundred thousand", 200_000), ("fifty", 50), ("a hundred", 100), ("twenty five thousand", 25_000),
     ("one point two", Decimal("1.2")), ("half a million", 500_000)],
)
def test_english_number_words(words: str, value: int | Decimal) -> None:
    """English number words, as recognisers write them, parse to exact values."""
    assert parse_english_number(words) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("报价改成二十万", "zh", [("200000", "CNY")]),
        ("合同金额3万5千元", "zh", [("35000", "CNY")]),
        ("预算大概五十多万", "zh", [("500000", "CNY")]),
        ("总价1.2亿美元", "zh", [("120000000", "USD")]),
        ("他们要100台，单价两千块", "zh", [("2000", "CNY")]),
        ("about the revised quote, 200 thousand", "en", [("200000", None)]),
        ("send the quote for $5k", "en", [("5000", "USD")]),
        ("a deal worth 1.2 million RMB", "en", [("1200000", "CNY")]),
        ("order 300 units at $20,000 total", "en", [("20000", "USD")]),
        ("the quote is two hundred thousand dollars", "en", [("200000", "USD")]),
        ("a tender of 80 thousand euros", "en", [("80000", "EUR")]),
        ("invoice of 6,400 pounds", "en", [("6400", "GBP")]),
        ("price 15,000 yuan", "en", [("15000", "CNY")]),
    ],
)
def test_amounts_with_currency(text: str, lang: str, expected: list[tuple[str, str | None]]) -> None:
    """Money is found with its exact value and currency; a Chinese bare amount is CNY, an English one has none."""
    assert [(str(a.value), a.currency) for a in find_amounts(text, lang=lang)] == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [("meet at 3 pm", "en"), ("call at 3 about the order", "en"), ("ship 40 trucks", "en"),
     ("下周二下午三点开会", "zh"), ("订了20台机器", "zh"), ("三号去拜访", "zh"),
     ("the 2027 budget plan", "en"), ("2027年的预算", "zh")],
)
def test_numbers_that_are_not_money(text: str, lang: str) -> None:
    """Clock times, dates, years and quantities of goods are not amounts."""
    assert find_amounts(text, lang=lang) == []


def test_skip_spans_exclude_time_expressions() -> None:
    """A number inside a span the caller marks as a date is not read as money."""
    text = "quote due on the 15th, price 15000"
    assert [str(a.value) for a in find_amounts(text, lang="en", skip=[(13, 21)])] == ["15000"]
