"""Money amounts in memos: "$5k", "200 thousand", "1.2 million RMB", 二十万, 两万五, 1.5亿美元.

Theory of operation
-------------------
A number in a memo is only an *amount* when something says it is money:

* a currency marker next to it ($, ¥, €, £, USD, RMB, 元, 块, 美元, dollars, yuan ...), or
* a magnitude word (k, thousand, grand, million, 万, 亿) that is not followed
  by a unit of something else (units, pieces, 台, 件, 人, ...), or
* a price word in the same sentence (quote, price, budget, deal, 报价, 价格,
  预算, 合同 ...) and a value of at least 100 (so "call at 3" is no amount).

Numbers inside a date or time expression are excluded by the caller passing
their spans (``skip``). Chinese numerals are parsed positionally by section
(亿 > 万 > 千/百/十), with the spoken abbreviations 两万五 (25 000) and 三千五
(3 500). English number words ("two hundred thousand", "one point two
million") are parsed too, since recognisers write numbers as words.

Currency: an explicit marker wins; a Chinese memo's bare amount is CNY
(二十万 means yuan to a Chinese rep); an English memo's bare amount has no
currency (``None``), since the rep's currency is not knowable from the words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["Amount", "find_amounts", "parse_chinese_number", "parse_english_number"]


@dataclass(frozen=True, slots=True)
class Amount:
    """A sum of money found in text: exact value, ISO 4217 currency (or None), the words, their span."""

    value: Decimal
    currency: str | None
    text: str
    span: tuple[int, int]


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3, "四": 4,
              "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_CN_CHARS = "".join(_CN_DIGITS) + "".join(_CN_UNITS) + "".join(_CN_BIG)

_ZH_CURRENCY = (
    ("人民币", "CNY"), ("块钱", "CNY"), ("块", "CNY"), ("元", "CNY"), ("圆", "CNY"),
    ("美元", "USD"), ("美金", "USD"), ("刀", "USD"), ("欧元", "EUR"), ("港币", "HKD"), ("港元", "HKD"),
    ("日元", "JPY"), ("英镑", "GBP"), ("新币", "SGD"),
)
_PREFIX_CURRENCY = (
    ("US$", "USD"), ("HK$", "HKD"), ("S$", "SGD"), ("$", "USD"), ("¥", "CNY"), ("￥", "CNY"), ("€", "EUR"),
    ("£", "GBP"), ("USD", "USD"), ("RMB", "CNY"), ("CNY", "CNY"), ("EUR", "EUR"), ("GBP", "GBP"),
    ("HKD", "HKD"), ("人民币", "CNY"),
)
_EN_CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "bucks": "USD", "usd": "USD", "yuan": "CNY", "rmb": "CNY",
    "renminbi": "CNY", "cny": "CNY", "kuai": "CNY", "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "hkd": "HKD",
}
_EN_MAGNITUDE = {"k": 1_000, "thousand": 1_000, "grand": 1_000, "m": 1_000_000, "mn": 1_000_000,
                 "mil": 1_000_000, "million": 1_000_000, "millions": 1_000_000, "bn": 1_000_000_000,
                 "billion": 1_000_000_000, "lakh": 100_000}
_OTHER_UNITS_ZH = ("台", "件", "套", "箱", "个人", "人", "次", "家", "点", "号", "日", "月", "年", "周", "天",
                   "小时", "分", "%", "％", "个月", "个星期", "星期", "楼", "层", "米", "公里", "吨", "瓶", "份", "张")
_OTHER_UNITS_EN = frozenset("units unit pieces piece pcs boxes box people users seats licenses licences "
                            "percent % days day weeks week months month hours hour minutes minute times "
                            "items kg tons tonnes meters metres km miles calls visits pm am o'clock".split())
_PRICE_WORDS = re.compile(
    r"quote|quotation|price|pricing|budget|deal|contract|order|invoice|discount|offer|proposal|payment|"
    r"deposit|worth|value|cost|pay|报价|价格|价钱|预算|合同|订单|单子|发票|付款|定金|货款|金额|优惠|折扣|总价|单价|标",
    re.IGNORECASE,
)

_EN_SMALL = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
             "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
             "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1}
_EN_NUMBER_WORDS = set(_EN_SMALL) | {"hundred", "thousand", "million", "billion", "and", "point", "half"}

_ZH_NUMBER = re.compile(rf"(?:[0-9]+(?:\.[0-9]+)?|[{_CN_CHARS}])(?:[0-9.{_CN_CHARS}])*")
_EN_NUMBER = re.compile(
    r"(?P<prefix>US\$|HK\$|S\$|\$|¥|￥|€|£|(?:USD|RMB|CNY|EUR|GBP|HKD)\s?)?"
    r"(?<![A-Za-z])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|"
    r"(?:(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"thousand|million|billion|point|a|and|half)(?:[\s-]+|(?=\b)))+)"
    r"(?P<mag>\s?(?:k|K|thousand|grand|m|M|mn|mil|million|millions|bn|billion|lakh)\b)?"
    r"(?P<suffix>\s?(?:dollars?|bucks|USD|usd|yuan|RMB|rmb|renminbi|CNY|kuai|euros?|EUR|pounds?|GBP|HKD)\b)?",
    re.IGNORECASE,
)


def parse_chinese_number(text: str) -> Decimal | None:
    """Value of a Chinese (or mixed Arabic/Chinese) numeral such as 二十万, 两万五, 1.5亿, 十二万八千."""
    text = text.strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        pass
    total = Decimal(0)
    rest = text
    for big_char, big in sorted(_CN_BIG.items(), key=lambda kv: -kv[1]):
        if big_char in rest:
            head, _, rest = rest.partition(big_char)
            head_value = _parse_section(head) if head else Decimal(1)
            if head_value is None:
                return None
            total += head_value * big
            if rest and rest[0] not in "零〇" and all(ch in _CN_DIGITS for ch in rest) and len(rest) == 1:
                # 两万五 = 25 000, 一亿二 = 120 000 000: one trailing digit is the next place down.
                return total + _CN_DIGITS[rest] * big // 10
    if rest:
        tail = _parse_section(rest)
        if tail is None:
            return None
        total += tail
    return total


def _parse_section(text: str) -> Decimal | None:
    """A section below 万: digits with 千/百/十, or Arabic digits; 三千五 = 3 500."""
    try:
        return Decimal(text)
    except InvalidOperation:
        pass
    value = Decimal(0)
    digit: Decimal | None = None
    last_unit = 10_000
    for ch in text:
        if ch in _CN_DIGITS:
            digit = Decimal(_CN_DIGITS[ch])
        elif ch.isdigit():
            digit = Decimal(ch) if digit is None else digit * 10 + Decimal(ch)
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            value += (digit if digit is not None else Decimal(1)) * unit
            last_unit = unit
            digit = None
        else:
            return None
    if digit is not None:
        # A lone trailing digit after a unit is the next place down (三千五 = 3 500), unless 零 came between.
        value += digit * (last_unit // 10) if last_unit < 10_000 and last_unit > 10 and "零" not in text else digit
    return value


def parse_english_number(words: str) -> Decimal | None:
    """Value of English number words: "two hundred thousand", "one point two", "fifty"."""
    tokens = [t for t in re.split(r"[\s-]+", words.lower().strip()) if t and t != "and"]
    tokens = [t for i, t in enumerate(tokens) if not (t == "a" and i > 0 and tokens[i - 1] == "half")]  # half a million
    if not tokens or not all(t in _EN_NUMBER_WORDS for t in tokens):
        return None
    if "point" in tokens:
        i = tokens.index("point")
        whole = parse_english_number(" ".join(tokens[:i])) if i else Decimal(0)
        digits = "".join(str(_EN_SMALL[t]) for t in tokens[i + 1 :] if t in _EN_SMALL and _EN_SMALL[t] < 10)
        if whole is None or not digits:
            return None
        return whole + Decimal("0." + digits)
    total, current = Decimal(0), Decimal(0)
    seen_digit = False
    for token in tokens:
        if token in _EN_SMALL:
            current += _EN_SMALL[token]
            seen_digit = seen_digit or token != "a"
        elif token == "half":
            current += Decimal("0.5")
        elif token == "hundred":
            current = (current or Decimal(1)) * 100
            seen_digit = True
        else:
            seen_digit = True
            scale = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}[token]
            total += (current or 1) * scale
            current = Decimal(0)
    if not seen_digit and total == 0:
        return None
    return total + current


def _looks_like_year(raw: str, value: Decimal) -> bool:
    """"the 2027 budget", 2026年: a bare four-digit number from 1900 to 2100 is a year, not money."""
    return raw.isdigit() and len(raw) == 4 and 1900 <= value <= 2100


def _overlaps(span: tuple[int, int], skip: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in skip)


def _normalise(value: Decimal) -> Decimal:
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def find_amounts(text: str, *, lang: str, skip: Sequence[tuple[int, int]] = ()) -> list[Amount]:
    """Every money amount in ``text``, in order; spans in ``skip`` (dates, times) are ignored."""
    found = _find_zh(text, skip) if lang == "zh" else []
    taken = [a.span for a in found]
    found += [a for a in _find_en(text, skip, default_cny=lang == "zh") if not _overlaps(a.span, taken)]
    return sorted(found, key=lambda a: a.span)


def _find_zh(text: str, skip: Sequence[tuple[int, int]]) -> list[Amount]:
    amounts: list[Amount] = []
    priced = bool(_PRICE_WORDS.search(text))
    consumed = 0
    for match in _ZH_NUMBER.finditer(text):
        start, end = match.span()
        if start < consumed:
            continue
        raw = match.group().rstrip(".")
        end = start + len(raw)
        if not any(ch in _CN_CHARS for ch in raw):
            if text[end : end + 1] in ("万", "亿") or not re.match(r"\s*(?:元|块|美元|美金|欧元|港币|日元|英镑|人民币)", text[end:]):
                if not (priced and text[end : end + 1] not in "点号日月年周天%：:"):
                    continue
        if _overlaps((start, end), skip):
            continue
        after = text[end:]
        if after.startswith("多"):  # 二十多万: "twenty-odd" — keep the round figure
            after = after[1:]
            end += 1
        value = parse_chinese_number(raw)
        if value is None or value <= 0:
            continue
        if after.startswith(("万", "亿")) and not any(ch in "万亿" for ch in raw):
            value *= _CN_BIG[after[0]]
            end += 1
            after = after[1:]
        currency = None
        for word, code in _ZH_CURRENCY:
            if after.startswith(word):
                currency, end = code, end + len(word)
                if after[len(word) :].startswith("钱"):
                    end += 1
                break
        before = text[max(0, start - 4) : start]
        for word, code in _PREFIX_CURRENCY:
            if before.rstrip().endswith(word):
                currency = currency or code
                start = start - len(word) - (len(before) - len(before.rstrip()))
                break
        big = any(ch in raw for ch in "万亿") or value >= 10_000
        if currency is None and _looks_like_year(raw, value):
            continue
        if currency is None:
            if any(after.startswith(unit) for unit in _OTHER_UNITS_ZH):
                continue
            if not (big or (priced and value >= 100)):
                continue
        consumed = end
        amounts.append(Amount(_normalise(value), currency or "CNY", text[start:end], (start, end)))
    return amounts


def _find_en(text: str, skip: Sequence[tuple[int, int]], *, default_cny: bool) -> list[Amount]:
    amounts = []
    priced = bool(_PRICE_WORDS.search(text))
    for match in _EN_NUMBER.finditer(text):
        num = match.group("num").strip()
        if not num or not re.search(r"[0-9a-z]", num, re.IGNORECASE):
            continue
        start, end = match.span()
        raw_end = end
        end = start + len(match.group().rstrip())
        if _overlaps((start, end), skip):
            continue
        if num[0].isdigit():
            value: Decimal | None = Decimal(num.replace(",", ""))
        else:
            value = parse_english_number(num)
        if value is None or value <= 0:
            continue
        mag = (match.group("mag") or "").strip().lower()
        if mag:
            value *= _EN_MAGNITUDE[mag]
        prefix = (match.group("prefix") or "").strip()
        suffix = (match.group("suffix") or "").strip().lower()
        currency = dict(_PREFIX_CURRENCY).get(prefix.upper() if prefix.isalpha() else prefix) if prefix else None
        currency = currency or _EN_CURRENCY_WORDS.get(suffix)
        next_word = re.match(r"\s*([A-Za-z%']+)", text[raw_end:])
        word_magnitude = any(w in num.lower() for w in ("thousand", "million", "billion"))
        if currency is None and not mag and _looks_like_year(num, value):
            continue
        if currency is None:
            if next_word and next_word.group(1).lower() in _OTHER_UNITS_EN:
                continue
            if any(text[raw_end:].lstrip().startswith(unit) for unit in _OTHER_UNITS_ZH):
                continue
            if not (mag or word_magnitude or (priced and value >= 100)):
                continue
            if re.match(r"\s*(?:[:.]\d|am\b|pm\b|o'clock)", text[raw_end:], re.IGNORECASE):
                continue
        amounts.append(Amount(_normalise(value), currency or ("CNY" if default_cny else None),
                              text[start:end], (start, end)))
    return amounts
