"""English number words ("twenty-five", "third", "a couple of") as regex and value."""

from __future__ import annotations

__all__ = ["NUM", "ORD", "YEAR_WORDS", "number", "ordinal", "year_words"]

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_ORD_UNITS = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
              "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
              "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
_ORD_TENS = {"twentieth": 20, "thirtieth": 30}

_WORDS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
_WORDS.update(_TENS)
_WORDS.update({"a": 1, "an": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "a few": 3, "few": 3,
               "several": 3, "some": 3, "half a": 0, "a dozen": 12, "dozen": 12})
for _t, _v in _TENS.items():
    for _i in range(1, 10):
        _WORDS[f"{_t}-{_UNITS[_i]}"] = _v + _i
        _WORDS[f"{_t} {_UNITS[_i]}"] = _v + _i

_ORDS: dict[str, int] = {w: i for i, w in enumerate(_ORD_UNITS) if i}
_ORDS.update(_ORD_TENS)
for _i in range(1, 10):
    _ORDS[f"twenty-{_ORD_UNITS[_i]}"] = 20 + _i
    _ORDS[f"twenty {_ORD_UNITS[_i]}"] = 20 + _i
_ORDS["thirty-first"] = _ORDS["thirty first"] = 31


def _alt(words: list[str]) -> str:
    return "|".join(w.replace(" ", r"\s+") for w in sorted(words, key=len, reverse=True))


NUM = rf"(?:\d+(?:\.\d+)?|{_alt([w for w in _WORDS if w not in ('half a',)])})"
ORD = rf"(?:\d{{1,2}}(?:st|nd|rd|th)|{_alt(list(_ORDS))})"


def number(s: str) -> float:
    """Value of a cardinal in digits or words; raises KeyError when unknown."""
    s = " ".join(s.lower().split())
    try:
        return float(s)
    except ValueError:
        return float(_WORDS[s])


def ordinal(s: str) -> int:
    """Value of an ordinal ("3rd", "third", "twenty-first")."""
    s = " ".join(s.lower().split())
    if s[:1].isdigit():
        return int(s.rstrip("stndrh"))
    return _ORDS[s]


_U = "|".join(_UNITS[1:10])
_TEEN = "|".join(_UNITS[10:])
_TEN = "|".join(_TENS)
_TWO_DIGITS = rf"(?:(?:{_TEN})(?:[\s-]+(?:{_U}))?|{_TEEN}|(?:oh|o|zero)\s+(?:{_U}))"
# "nineteen ninety six", "nineteen oh one", "seventeen hundred thirty three", "twenty twenty",
# "two thousand and eighteen", "one thousand seven hundred and eighty nine"
YEAR_WORDS = (rf"(?:(?:{_TEEN}|twenty)\s+(?:hundred\s+(?:and\s+)?)?{_TWO_DIGITS}"
              rf"|(?:one|two)\s+thousand(?:\s+(?:and\s+)?(?:(?:{_U})\s+hundred(?:\s+and)?\s+)?"
              rf"(?:{_TWO_DIGITS}|{_U}))?)")


def year_words(s: str) -> int:
    """Value of a year said in words (see ``YEAR_WORDS``); raises KeyError on anything else."""
    words = s.lower().replace("-", " ").split()
    words = [w for w in words if w != "and"]
    if "thousand" in words:
        i = words.index("thousand")
        total = _WORDS[words[0]] * 1000
        rest = words[i + 1:]
        if "hundred" in rest:
            j = rest.index("hundred")
            total += _WORDS[rest[0]] * 100
            rest = rest[j + 1:]
        return total + (_two_digits(rest) if rest else 0)
    century = _WORDS[words[0]]
    rest = words[1:]
    if rest and rest[0] == "hundred":
        rest = rest[1:]
    return century * 100 + _two_digits(rest)


def _two_digits(words: list[str]) -> int:
    if words[0] in ("oh", "o", "zero"):
        return _WORDS[words[1]]
    return int(number(" ".join(words)))
