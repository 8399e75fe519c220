"""From a scanned card to the CRM: the suggested contact row, and likely duplicates.

Both functions are pure so that the server can call them inside the
transaction that writes the suggested contact (attachment flow) and tests can
call them with plain dicts.

Duplicate rules, strongest first (a candidate keeps every reason that holds,
and the best score):

==========================  ======  ==============================================
reason                      score   when
==========================  ======  ==============================================
``same_email``              1.00    an email on the card equals one of the contact's (case-insensitive)
``same_mobile``             0.95    a mobile on the card equals one of the contact's numbers (E.164)
``same_wechat``             0.90    same WeChat id (case-insensitive)
``similar_name_company``    <=0.85  names match (fuzzy) and companies match after
                                    reducing both to a short name (``上海华东电气有限公司`` -> ``华东电气``)
==========================  ======  ==============================================

Contacts are mappings with the ``contacts`` columns (``id``, ``name``,
``phones``, ``emails``, ``wechat``) and the account's name under
``account_name`` (or ``company``); list columns may be lists or the JSON text a
SQLite row holds.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from rapidfuzz import fuzz

from fieldsync.ocr import lexicon as L
from fieldsync.ocr.fields import CardFields, PhoneKind

NAME_THRESHOLD = 88.0
COMPANY_THRESHOLD = 80.0
_HAN = re.compile(r"[\u3400-\u9fff]")
_ZH_TRADE_WORDS = ("股份", "有限", "责任", "公司", "集团", "控股", "科技", "技术", "实业", "贸易", "发展", "国际", "中国")
_EN_NOISE = re.compile(r"\b(co|ltd|limited|inc|corp|corporation|company|llc|gmbh|group|holdings|plc|the|and|&)\b\.?", re.I)


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    """An existing contact the card probably describes; ``score`` in ``[0, 1]``."""

    contact_id: Any
    score: float
    reasons: tuple[str, ...]
    contact: Mapping[str, Any]

    @property
    def reason(self) -> str:
        """The strongest reason, for one-line display."""
        return self.reasons[0]


def card_to_contact(card: CardFields) -> dict[str, Any]:
    """The ``contacts`` row a card suggests (``account_name`` names the account to find or create)."""
    return {
        "name": card.name,
        "title": card.title,
        "phones": [p.to_json() for p in card.phones],
        "emails": list(card.emails),
        "wechat": card.wechat,
        "qq": card.qq,
        "account_name": card.company,
        "department": card.department,
        "address": card.address,
        "website": card.website,
        "source": "card",
    }


def find_duplicates(
    card: CardFields, contacts: Iterable[Mapping[str, Any]], *, region: str = "CN"
) -> list[DuplicateCandidate]:
    """Existing contacts the card likely duplicates, best first (``region`` reads stored local numbers)."""
    card_emails = {e.lower() for e in card.emails}
    card_mobiles = set(card.phones_of(PhoneKind.MOBILE))
    card_name = _name_key(card.name)
    card_company = company_key(card.company)
    found: list[DuplicateCandidate] = []
    for contact in contacts:
        reasons: list[tuple[float, str]] = []
        if card_emails & {e.lower() for e in _strings(contact.get("emails"))}:
            reasons.append((1.0, "same_email"))
        if card_mobiles & _numbers(contact.get("phones"), region):
            reasons.append((0.95, "same_mobile"))
        wechat = contact.get("wechat")
        if card.wechat and wechat and card.wechat.lower() == str(wechat).lower():
            reasons.append((0.9, "same_wechat"))
        other_name = _name_key(contact.get("name"))
        other_company = company_key(contact.get("account_name") or contact.get("company"))
        if card_name and other_name and card_company and other_company:
            name_score = _name_similarity(card_name, other_name)
            company_score = fuzz.partial_ratio(card_company, other_company) if min(len(card_company), len(other_company)) >= 2 else 0.0
            if name_score >= NAME_THRESHOLD and company_score >= COMPANY_THRESHOLD:
                reasons.append((round(0.85 * (name_score / 100) * (company_score / 100), 3), "similar_name_company"))
        if reasons:
            reasons.sort(reverse=True)
            found.append(DuplicateCandidate(contact.get("id"), reasons[0][0], tuple(r for _, r in reasons), contact))
    found.sort(key=lambda c: -c.score)
    return found


def company_key(company: Any) -> str:
    """A company reduced to its distinctive short name: no place names, legal forms or trade words."""
    if not company:
        return ""
    text = unicodedata.normalize("NFKC", str(company)).lower()
    if _HAN.search(text):
        text = re.sub(r"[（(].*?[)）]", "", text)
        for suffix in sorted(L.COMPANY_SUFFIXES_ZH, key=len, reverse=True):
            text = text.replace(suffix, "")
        for city in L.CITY_NAMES:
            if _HAN.search(city):
                text = text.replace(city + "省", "").replace(city + "市", "").replace(city, "")
        for word in _ZH_TRADE_WORDS:
            text = text.replace(word, "")
        return re.sub(r"[^\w]", "", text) or re.sub(r"[^\w]", "", str(company))
    text = _EN_NOISE.sub(" ", text)
    text = re.sub(r"\b(technology|technologies|international|china|shanghai|beijing|shenzhen)\b", " ", text)
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _name_key(name: Any) -> str:
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    text = re.sub(r"^(dr|mr|ms|mrs|prof)\.?\s+", "", text)
    return re.sub(r"\s+", "", text) if _HAN.search(text) else " ".join(re.sub(r"[^\w\s'-]", " ", text).split())


def _name_similarity(a: str, b: str) -> float:
    if _HAN.search(a) or _HAN.search(b):
        return 100.0 if a == b else (fuzz.ratio(a, b) if len(a) >= 3 and len(b) >= 3 else 0.0)
    return float(fuzz.token_sort_ratio(a, b))  # "Wei Zhang" == "Zhang Wei"


def _load(value: Any) -> Any:
    if isinstance(value, str | bytes) and value[:1] in ("[", b"["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _strings(value: Any) -> list[str]:
    value = _load(value)
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[,;\s]+", value) if v]
    return [str(v.get("email") or v.get("value") or "") if isinstance(v, Mapping) else str(v) for v in value]


def _numbers(value: Any, region: str) -> set[str]:
    """A contact's phone numbers as E.164 (entries may be dicts, E.164 strings or local numbers)."""
    out: set[str] = set()
    raw = _load(value)
    items = [raw] if isinstance(raw, str) else list(raw or ())
    for item in items:
        text = str(item.get("number", "")) if isinstance(item, Mapping) else str(item)
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        out.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return out
