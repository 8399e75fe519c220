"""Pattern fields: phones, emails, websites, WeChat and QQ ids inside one text segment.

These fields have a shape (an ``@``, a dialling plan, a domain), so they are
found by pattern, removed from the segment, and whatever text is left over goes
on to the line classifier in ``parse.py``. Phone numbers go through
``phonenumbers`` (libphonenumber's metadata), which validates them against the
dialling plan of the default region and formats them as E.164; OCR's usual
digit confusions (``O``/``0``, ``l``/``1``) are undone first, but only inside
tokens that are already mostly digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from fieldsync.ocr.fields import Phone, PhoneKind

EMAIL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,10}")
_TLDS = r"(?:com|cn|net|org|io|co|biz|info|edu|gov|hk|tw|jp|de|uk|us|top|xyz|tech|cc|me|asia|shop|ai)"
WEB_RE = re.compile(
    rf"(?:https?://)?(?:www\.)?[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.{_TLDS}(?:\.[a-z]{{2}})?(?:/[^\s,;，；]*)?(?![A-Za-z0-9@])",
    re.I,
)
WECHAT_RE = re.compile(r"(?<![A-Za-z0-9_-])([A-Za-z][A-Za-z0-9_-]{5,19}|1[3-9]\d{9})(?![A-Za-z0-9_-])")
QQ_RE = re.compile(r"(?<!\d)([1-9]\d{4,11})(?!\d)")
_DIGITISH = re.compile(r"[+(]?[0-9OoIl|SB][0-9OoIl|SB()\-.\s]{5,}[0-9OoIl|SB]")
_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8"})
_EXTENSION_ZH = re.compile(r"\s*(?:转|分机|ext\.?|x)\s*(\d{1,6})\b", re.I)

_KIND_OF_LABEL = {"mobile": PhoneKind.MOBILE, "office": PhoneKind.OFFICE, "fax": PhoneKind.FAX, "hotline": PhoneKind.OTHER}
_KIND_OF_TYPE = {
    PhoneNumberType.MOBILE: PhoneKind.MOBILE,
    PhoneNumberType.FIXED_LINE: PhoneKind.OFFICE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: PhoneKind.OFFICE,
    PhoneNumberType.VOIP: PhoneKind.OFFICE,
}


@dataclass(frozen=True, slots=True)
class Found:
    """Pattern fields found in one segment, and the text left once they are cut out."""

    phones: tuple[Phone, ...] = ()
    emails: tuple[str, ...] = ()
    websites: tuple[str, ...] = ()
    wechat: str | None = None
    qq: str | None = None
    rest: str = ""


def fix_digits(text: str) -> str:
    """Undo OCR letter-for-digit confusions inside runs that are mostly digits."""

    def repair(match: re.Match[str]) -> str:
        run = match.group(0)
        digits = sum(ch.isdigit() for ch in run)
        letters = sum(ch in "OoIl|SB" for ch in run)
        return run.translate(_DIGIT_FIX) if digits >= 5 and letters <= max(1, digits // 4) else run

    return _DIGITISH.sub(repair, text)


def clean_email_spacing(text: str) -> str:
    """Close the gaps OCR leaves around ``@`` and dots in addresses (``a @ b. com``)."""
    text = re.sub(r"\s*[@©®]\s*(?=[A-Za-z0-9])", "@", text) if "@" in text or "©" in text else text
    return re.sub(r"(?<=[A-Za-z0-9])\s*\.\s+(?=(?:com|cn|net|org)\b)", ".", text)


def _lower_ell(value: str) -> str:
    """In sans-serif print ``I`` and ``l`` look alike: in an otherwise lower-case id, a capital I is an l."""
    if "I" in value and not re.search(r"[A-HJ-Z]", value) and re.search(r"[a-z]", value):
        return value.replace("I", "l")
    return value


def _unglue_label(email: str, label: str | None) -> str:
    """``emailjohn@x.com``: an ``Email:`` label whose colon OCR lost is not part of the address."""
    if label is None:
        m = re.match(r"(?:e-?mail|mail|邮箱)[:.]?(?=[a-z0-9])", email)
        if m and "@" in email[m.end():]:
            return email[m.end():]
    return email


def normalise_website(raw: str) -> str:
    """Lower-case host, no scheme, no trailing slash or punctuation: ``www.example.com.cn/path``."""
    value = re.sub(r"^https?://", "", raw.strip(), flags=re.I).rstrip("/.,;")
    host, sep, path = value.partition("/")
    return host.lower() + sep + path


def phones_in(text: str, *, region: str, label: str | None) -> tuple[list[Phone], str]:
    """Every valid phone number in ``text`` as E.164 with its kind, and the text without them."""
    prepared = _EXTENSION_ZH.sub(lambda m: f" ext. {m.group(1)}", fix_digits(text))
    phones: list[Phone] = []
    spans: list[tuple[int, int]] = []
    for match in phonenumbers.PhoneNumberMatcher(prepared, region, leniency=phonenumbers.Leniency.VALID):
        number = match.number
        kind = _KIND_OF_LABEL.get(label or "")
        if kind is None:
            kind = _KIND_OF_TYPE.get(phonenumbers.number_type(number), PhoneKind.OTHER)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        phones.append(Phone(e164, kind, number.extension or None))
        spans.append((match.start, match.end))
    rest = prepared
    for start, end in reversed(spans):
        rest = rest[:start] + " " + rest[end:]
    if not phones:
        return [], text
    return phones, rest


def extract(text: str, *, label: str | None, region: str) -> Found:
    """Cut the pattern fields announced by ``label`` (or recognisable anyway) out of ``text``."""
    rest = clean_email_spacing(text)
    emails = [_unglue_label(_lower_ell(m.group(0)).lower().rstrip("."), label) for m in EMAIL_RE.finditer(rest)]
    rest = EMAIL_RE.sub(" ", rest)

    websites: list[str] = []
    if label == "website" or re.search(r"www\.|https?://|\.(?:com|cn|net|org)\b", rest, re.I):
        for m in WEB_RE.finditer(rest):
            value = m.group(0)
            if label == "website" or re.match(r"(?:https?://|www\.)", value, re.I) or "/" not in value:
                websites.append(normalise_website(value))
        rest = WEB_RE.sub(" ", rest) if websites else rest

    wechat = qq = None
    if label == "wechat":
        id_match = WECHAT_RE.search(rest.replace(" ", "") if len(rest.split()) > 1 and rest.replace(" ", "").isdigit() else rest)
        if id_match:
            wechat = _lower_ell(id_match.group(1))
            rest = rest.replace(wechat, " ", 1)
    elif label == "qq":
        qq_match = QQ_RE.search(fix_digits(rest).replace(" ", ""))
        if qq_match:
            qq = qq_match.group(1)
            rest = ""

    phones: list[Phone] = []
    if wechat is None and qq is None and label not in ("postcode",) and sum(ch.isdigit() for ch in rest) >= 6:
        phones, rest = phones_in(rest, region=region, label=label)
    return Found(tuple(phones), tuple(emails), tuple(websites), wechat, qq, rest.strip(" \t:：,，;；|｜/·•-"))
