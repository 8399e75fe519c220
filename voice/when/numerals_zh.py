"""Chinese numerals: "二十", "两", "十二", "廿五", "二〇二六", "一万二千", full-width digits.

``zh_number`` reads a cardinal (positional with 十/百/千/万, or digit by digit
as in years: "二零二六" = 2026).  ``NUM_ZH`` is the character class the
Chinese patterns use for any number.
"""

from __future__ import annotations

__all__ = ["NUM_ZH", "DIGITS_ZH", "zh_number", "zh_year"]

_DIGIT = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4,
          "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5,
          "陆": 6, "柒": 7, "捌": 8, "玖": 9}
_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_SPECIAL = {"廿": 20, "卅": 30, "卌": 40}

DIGITS_ZH = "零〇○一二两三四五六七八九壹贰叁肆伍陆柒捌玖"
NUM_ZH = rf"[0-9０-９{DIGITS_ZH}十拾百佰千仟万廿卅]+"


def _ascii(s: str) -> str:
    return s.translate({0xFF10 + i: 0x30 + i for i in range(10)})


def zh_number(text: str) -> int:
    """Value of a Chinese or Arabic cardinal; raises ValueError when ``text`` is not a number."""
    s = _ascii(text.strip())
    if not s:
        raise ValueError("empty number")
    if s.isdigit():
        return int(s)
    if all(c in _DIGIT for c in s):
        if len(s) == 1:
            return _DIGIT[s]
        return int("".join(str(_DIGIT[c]) for c in s))
    total, section, digit = 0, 0, None
    for c in s:
        if c.isdigit():
            digit = (digit or 0) * 10 + int(c)
        elif c in _DIGIT:
            digit = _DIGIT[c]
        elif c in _SPECIAL:
            section += _SPECIAL[c]
            digit = None
        elif c in _UNIT:
            section += (1 if digit is None else digit) * _UNIT[c]
            digit = None
        elif c in _BIG:
            section += digit or 0
            total += section * _BIG[c]
            section, digit = 0, None
        else:
            raise ValueError(f"not a number: {text!r}")
    return total + section + (digit or 0)


def zh_year(text: str, reference_year: int) -> int:
    """A year written in full ("二〇二六", "2026") or short ("26年", "九七年" -> nearest century)."""
    s = _ascii(text)
    if len(s) >= 3 or (s.isdigit() and len(s) == 4):
        return zh_number(s)
    v = zh_number(s)
    if v >= 100:  # "两千年"
        return v
    century = reference_year // 100 * 100
    year = century + v
    if year > reference_year + 10:
        year -= 100
    return year
