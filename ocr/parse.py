"""The card parser: recognised text lines in, ``CardFields`` out. Pure: no I/O, no engine.

Theory of operation
-------------------
1. **Normalise.** NFKC folds full-width forms (``：``, ``１３８``) to ASCII; lines
   are ordered by side, then top, then left.
2. **Segment.** A line often carries several fields (``Tel: 021-... Fax: 021-...``,
   ``手机:138...邮箱:...``). Lines are cut before every label (``lexicon.LABELS``)
   and at visual separators (``|``, ``·``, wide gaps), giving segments that carry
   at most one label.
3. **Extract patterns** (``extract.py``): emails, websites, phones (E.164 through
   libphonenumber, kind from the label, else from the dialling plan), WeChat and
   QQ ids. What remains of a segment goes on.
4. **Classify the rest** with word lists (``lexicon.py``): address (place and
   street markers, or an ``地址``/``Address`` label, with continuation lines
   joined), company (legal suffixes), department (``部``/``Dept.``), title
   (``经理``/``Manager``), name (a Chinese surname plus one to three characters,
   or two to four capitalised Latin words). ``张伟 销售经理`` and even the
   unspaced ``张伟销售经理`` split into name and title.
5. **Choose.** When a field has several candidates (a bilingual card prints the
   company twice), the Chinese one wins, then the strongest rule, then the tallest
   (names are set large) and the earliest. A name is guessed from the tallest
   unclaimed short line only when no candidate matched a rule, with a low score.

Each field's confidence is the engine's confidence for the text times a rule
strength (a labelled value 0.95 ... a fallback name 0.45).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from rapidfuzz.distance import Levenshtein

from fieldsync.ocr import lexicon as L
from fieldsync.ocr.extract import extract
from fieldsync.ocr.fields import CardFields, Phone, TextLine
from fieldsync.sync import errors as E

_HAN = re.compile(r"[\u3400-\u9fff]")
_HAN_SPACES = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
# "|" separators, and the "I"/"l" OCR reads a thin separator bar as when it stands alone between words.
# 丨 │ 」 are how PP-OCR reads a "|" set between Chinese words.
_SEPARATORS = re.compile(r"\s*[|｜•·丨│┃」]\s*|\s{3,}|\s+[Il1]\s+(?=[A-Z\u3400-\u9fff])")
_LABEL_START = re.compile(
    r"(?=(?:手\s*机|电\s*话|传\s*真|邮\s*箱|地\s*址|网\s*址|微\s*信|邮\s*编|座\s*机|热\s*线)\s*[:：])"
    r"|(?<![A-Za-z])(?=(?:QQ|tel|fax|mobile|mob|cell|e-?mail|web(?:site)?|add(?:ress|r)?|wechat|phone|office|direct)\s*[:：.])"
    r"|(?<![A-Za-z])(?=[MTFEPWA]\s*[:：]\s*[\w+(])",
    re.I,
)
_TITLE_PREFIXES_ZH = (
    "销售", "市场", "技术", "项目", "产品", "区域", "大客户", "高级", "资深", "首席", "副", "总", "执行", "财务", "人力",
    "行政", "采购", "客户", "业务", "研发", "运营", "董事", "部门", "工程", "质量", "品牌", "商务", "渠道", "华东", "华南",
    "华北", "华中", "西南", "西北", "东北", "海外", "国际", "设计", "法务", "战略", "投资", "经理", "主管", "总监", "主任",
)
_COUNTRY_TAIL = re.compile(r"\b(?:china|p\.?r\.?c\.?|usa|u\.s\.a\.|united states|germany|uk|united kingdom|singapore|japan)\.?\s*$", re.I)
_ROOM_ZH = re.compile(r"\d+\s*(?:楼|层|室|号|栋|座)|[A-Z]\s*座|(?:大厦|广场|园区|中心|软件园|科技园)\d")
_NAME_EN = re.compile(r"^(?:(?:Dr|Mr|Ms|Mrs|Prof)\.?\s+)?[A-Z][a-zA-Z'’-]+(?:\s+[A-Z][a-zA-Z'’.-]*){1,3}$")


@dataclass(frozen=True, slots=True)
class _Candidate:
    field: str
    value: str
    score: float  # rule strength x engine confidence
    height: float
    order: int
    han: bool


def parse_card(lines: Sequence[TextLine], *, region: str = "CN") -> CardFields:
    """Read the fields of one card (both sides) from recognised text lines."""
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise E.error_for(E.INVALID_REGION, f"unknown phone region {region!r}", region=region)
    cleaned = [TextLine(_normalise(ln.text), ln.box, ln.confidence, ln.side) for ln in lines if _normalise(ln.text)]
    heights = [ln.height for ln in cleaned if ln.height > 0]
    median_h = statistics.median(heights) if heights else 1.0
    ordered = _reading_order(cleaned, median_h)

    phones: list[Phone] = []
    phone_conf: list[float] = []
    phone_side: list[int] = []
    emails: list[str] = []
    email_conf: list[float] = []
    email_side: list[int] = []
    candidates: list[_Candidate] = []
    leftovers: list[tuple[int, TextLine, str]] = []
    address_parts: list[tuple[int, TextLine, str, float]] = []

    for order, line in enumerate(ordered):
        for label, text in _segments(line.text):
            found = extract(text, label=label, region=region)
            phone_score = line.confidence * (0.95 if label else 0.85)
            for phone in found.phones:
                twin = _twin(f"{phone.kind}|{phone.number}", [(f"{p.kind}|{p.number}", sd) for p, sd in zip(phones, phone_side)], line.side)
                twin = next((i for i, p in enumerate(phones) if p.number == phone.number), twin)
                if twin is None:
                    phones.append(phone)
                    phone_conf.append(phone_score)
                    phone_side.append(line.side)
                elif phone_score > phone_conf[twin]:  # the other side of the card read it better
                    phones[twin], phone_conf[twin] = phone, phone_score
            for email in found.emails:
                twin = _twin(email, list(zip(emails, email_side)), line.side)
                if twin is None:
                    emails.append(email)
                    email_conf.append(line.confidence * 0.95)
                    email_side.append(line.side)
                elif line.confidence * 0.95 > email_conf[twin]:
                    emails[twin], email_conf[twin] = email, line.confidence * 0.95
            for site in found.websites:
                candidates.append(_Candidate("website", site, line.confidence * (0.95 if label else 0.85), 0, order, False))
            if found.wechat:
                candidates.append(_Candidate("wechat", found.wechat, line.confidence * 0.95, 0, order, False))
            if found.qq:
                candidates.append(_Candidate("qq", found.qq, line.confidence * 0.95, 0, order, False))
            rest = found.rest
            if not rest or label in ("postcode", "mobile", "office", "fax", "hotline", "email", "website", "wechat", "qq"):
                continue
            if label == "address":
                address_parts.append((order, line, rest, 0.95))
                continue
            kinds = _classify(rest)
            if kinds:
                for field, value, strength in kinds:
                    if field == "address":
                        address_parts.append((order, line, value, strength))
                    else:
                        candidates.append(
                            _Candidate(field, value, line.confidence * strength, line.height / median_h, order, bool(_HAN.search(value)))
                        )
            else:
                leftovers.append((order, line, rest))

    address, address_conf = _join_address(address_parts, leftovers)
    chosen = {field: _best(candidates, field) for field in ("name", "title", "company", "department", "website", "wechat", "qq")}
    if chosen["website"] is not None:
        emails = [_domain_from_website(e, chosen["website"].value) for e in emails]
    if chosen["name"] is None:
        chosen["name"] = _fallback_name(leftovers, median_h, address_parts)

    confidence: dict[str, float] = {f: c.score for f, c in chosen.items() if c is not None}
    if phones:
        confidence["phones"] = min(phone_conf)
    if emails:
        confidence["emails"] = min(email_conf)
    if address:
        confidence["address"] = address_conf
    values = {f: (c.value if c else None) for f, c in chosen.items()}
    return CardFields(
        name=values["name"],
        title=values["title"],
        company=values["company"],
        department=values["department"],
        phones=tuple(phones),
        emails=tuple(emails),
        website=values["website"],
        address=address,
        wechat=values["wechat"],
        qq=values["qq"],
        confidence={k: round(min(max(v, 0.0), 1.0), 3) for k, v in confidence.items()},
        lines=tuple(ordered),
    )


def _twin(value: str, seen: list[tuple[str, int]], side: int) -> int | None:
    """Index of an already-found value that is this one: equal, or one character off on the other side of the card.

    A two-sided card prints its numbers and addresses twice; when the two
    readings differ by one character, one of them is an OCR slip, not a second
    address. (On one side, two near-identical values are taken to be distinct.)
    """
    for i, (other, _) in enumerate(seen):
        if other == value:
            return i
    for i, (other, other_side) in enumerate(seen):
        if other_side != side and len(value) > 6 and _same_tail(value, other) and Levenshtein.distance(value, other) <= 1:
            return i
    return None


def _same_tail(a: str, b: str) -> bool:
    """Same email domain, or same phone kind (``kind|number``): only the distinctive part may differ."""
    if "@" in a:
        return a.partition("@")[2] == b.partition("@")[2]
    return a.partition("|")[0] == b.partition("|")[0]


def _domain_from_website(email: str, website: str) -> str:
    """OCR drops hyphens in small print: restore an email's domain from the website's when they differ only so."""
    local, _, domain = email.partition("@")
    host = website.split("/", 1)[0].removeprefix("www.")
    if domain != host and domain.replace("-", "") == host.replace("-", ""):
        return f"{local}@{host}"
    return email


def _reading_order(lines: list[TextLine], median_h: float) -> list[TextLine]:
    """Side by side, rows top to bottom (centres within half a line height share a row), then left to right."""
    out: list[TextLine] = []
    for side in sorted({ln.side for ln in lines}):
        rows: list[list[TextLine]] = []
        for line in sorted((ln for ln in lines if ln.side == side), key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
            centre = (line.box[1] + line.box[3]) / 2
            if rows and abs(centre - (rows[-1][0].box[1] + rows[-1][0].box[3]) / 2) < 0.5 * median_h:
                rows[-1].append(line)
            else:
                rows.append([line])
        for row in rows:
            out.extend(sorted(row, key=lambda ln: ln.box[0]))
    return out


def mend_latin_spacing(text: str) -> str:
    """Put back the spaces PP-OCR drops between Latin words: ``AccountManager`` -> ``Account Manager``."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", " ", text)  # AccountManager
    text = re.sub(r"(?<=\d)(?=[A-Z][a-z]{2,})", " ", text)  # 761Renmin
    text = re.sub(r"(?<=[a-z]{2})(?=\d)", " ", text)  # Room1607
    return re.sub(r"(?<=[,;])(?=[A-Za-z0-9])", " ", text)  # Co.,Ltd.


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u3000", " ").strip()
    return _HAN_SPACES.sub("", text) if _HAN.search(text) and len(text) <= 8 else text


def _segments(text: str) -> list[tuple[str | None, str]]:
    """Cut a line before each label and at separators; return ``(label, text)`` pairs."""
    pieces: list[str] = []
    for chunk in _SEPARATORS.split(text):
        starts = [m.start() for m in _LABEL_START.finditer(chunk)]
        bounds = [0, *[s for s in starts if s > 0], len(chunk)]
        pieces.extend(chunk[a:b].strip() for a, b in zip(bounds, bounds[1:]))
    out: list[tuple[str | None, str]] = []
    for piece in filter(None, pieces):
        label = None
        for kind, pattern in L.LABELS:
            m = pattern.match(piece)
            if m and (kind not in ("office", "mobile", "fax") or re.search(r"[\d+(]", piece[m.end():m.end() + 3])):
                label, piece = kind, piece[m.end():].strip()
                break
        out.append((label, piece))
    return out


_LOGO_JUNK = re.compile(  # one stray letter, or two/three that are not an upper-case brand (TCL, BYD)
    r"^(?:(?:[A-Za-z()\[\]{}|]|(?![A-Z]{2,3}[\s\u3400-\u9fff])[A-Za-z()\[\]{}|]{2,3})\s*(?=[\u3400-\u9fff])"
    r"|[a-z]{1,2}\)?\s+(?=[A-Z]))"
)


def _classify(text: str) -> list[tuple[str, str, float]]:
    """What one unlabelled segment is: ``[(field, value, strength)]`` (a name+title line gives two)."""
    text = _LOGO_JUNK.sub("", text)  # strokes of a logo read as letters before the text beside it
    han = bool(_HAN.search(text))
    compact = re.sub(r"\s+", "", text) if han else text
    if han:
        if L.ADDRESS_STRONG_ZH.search(compact) or (
            len(L.ADDRESS_MARKERS_ZH.findall(compact)) >= 3 and re.search(r"\d", compact)
        ):
            return [("address", compact, 0.85)]
        if compact.endswith(L.COMPANY_SUFFIXES_ZH[:10]) or compact.endswith(("公司", "集团")):
            return [("company", compact, 0.9)]
        if _ROOM_ZH.search(compact):
            return [("address", compact, 0.75)]
        if compact.endswith(L.TITLE_WORDS_ZH) and (compact.startswith(_TITLE_PREFIXES_ZH) or compact in L.TITLE_WORDS_ZH):
            return [("title", compact, 0.85)]
        split = _split_department_title(compact) or _split_name_title(compact)
        if split:
            return split
        if compact.endswith(L.DEPARTMENT_SUFFIXES_ZH) and len(compact) <= 14:
            return [("department", compact, 0.85)]
        if compact.endswith(L.TITLE_WORDS_ZH) and len(compact) <= 12:
            return [("title", compact, 0.85)]
        if _is_chinese_name(compact):
            return [("name", compact, 0.9)]
        if compact.endswith(L.COMPANY_SUFFIXES_ZH) and len(compact) >= 4:
            return [("company", compact, 0.7)]
        return []
    text = mend_latin_spacing(text)
    words = text.split()
    has_digit = bool(re.search(r"\d", text))
    low = text.lower()
    if L.COMPANY_RE_EN.search(text) and not (has_digit and L.ADDRESS_RE_EN.search(text)):
        return [("company", text.strip(" ,;"), 0.85)]
    if (has_digit and (L.ADDRESS_RE_EN.search(text) or any(c in low for c in L.CITY_NAMES))) or (
        len(words) >= 2 and sum(c in low for c in L.CITY_NAMES) >= 1 and "," in text
    ):
        return [("address", text.strip(" ,;"), 0.8)]
    if L.DEPARTMENT_RE_EN.search(text) and len(words) <= 6 and not has_digit:
        return [("department", text.strip(" ,;"), 0.8)]
    if L.TITLE_RE_EN.search(text) and len(words) <= 7 and not has_digit:
        return _split_name_title_en(words) or [("title", text.strip(" ,;"), 0.8)]
    if _NAME_EN.match(text.strip()) and len(words) <= 4:
        return [("name", text.strip(), 0.8)]
    return []


def _is_chinese_name(text: str) -> bool:
    if not 2 <= len(text) <= 4 or not all(_HAN.match(c) for c in text):
        return False
    return text[:2] in L.COMPOUND_SURNAMES or (text[0] in L.SURNAMES and len(text) <= 3)


def _split_name_title(text: str) -> list[tuple[str, str, float]] | None:
    """``张伟销售经理`` -> name ``张伟`` + title ``销售经理`` (the title must start like one)."""
    for name_len in (2, 3, 4):
        name, rest = text[:name_len], text[name_len:]
        if rest and _is_chinese_name(name) and rest.endswith(L.TITLE_WORDS_ZH) and (
            rest.startswith(_TITLE_PREFIXES_ZH) or rest in L.TITLE_WORDS_ZH
        ):
            return [("name", name, 0.85), ("title", rest, 0.85)]
    return None


def _split_name_title_en(words: list[str]) -> list[tuple[str, str, float]] | None:
    """``Yang Jie Regional Sales Director`` (the separator lost) -> name + title."""
    for k in (2, 3):
        name, title = " ".join(words[:k]), " ".join(words[k:])
        if (
            title
            and _NAME_EN.match(name)
            and not L.TITLE_RE_EN.search(name)
            and not any(w.lower().strip(".,") in L.TITLE_MODIFIERS_EN for w in words[:k])
            and (words[k].lower() in L.TITLE_MODIFIERS_EN or L.TITLE_RE_EN.match(title))
        ):
            return [("name", name, 0.75), ("title", title, 0.75)]
    return None


def _split_department_title(text: str) -> list[tuple[str, str, float]] | None:
    """``市场部经理`` stays a title; ``市场部 高级经理`` and ``研发中心 总监`` split in two."""
    for suffix in ("事业部", "部", "中心"):
        idx = text.find(suffix)
        if 0 < idx and idx + len(suffix) < len(text):
            dept, title = text[: idx + len(suffix)], text[idx + len(suffix):]
            if title.endswith(L.TITLE_WORDS_ZH) and len(title) >= 3 and len(dept) >= 3:
                return [("department", dept, 0.8), ("title", title, 0.8)]
    return None


def _best(candidates: list[_Candidate], field: str) -> _Candidate | None:
    pool = [c for c in candidates if c.field == field]
    if not pool:
        return None
    if field == "name":
        return max(pool, key=lambda c: (c.han, c.height * c.score, -c.order))
    return max(pool, key=lambda c: (c.han, round(c.score, 1), -c.order))


def _fallback_name(
    leftovers: list[tuple[int, TextLine, str]], median_h: float, address_parts: list[tuple[int, TextLine, str, float]]
) -> _Candidate | None:
    """The tallest short unclaimed line, when no line looked like a name."""
    address_orders = {o for o, *_ in address_parts}
    pool = [
        (order, line, text)
        for order, line, text in leftovers
        if order not in address_orders
        and not re.search(r"[\d@/]", text)
        and ((_HAN.search(text) and 2 <= len(text) <= 4) or (not _HAN.search(text) and 2 <= len(text.split()) <= 3))
    ]
    if not pool:
        return None
    order, line, text = max(pool, key=lambda t: (t[1].height, -t[0]))
    return _Candidate("name", text, line.confidence * 0.45, line.height / median_h, order, bool(_HAN.search(text)))


def _join_address(
    parts: list[tuple[int, TextLine, str, float]], leftovers: list[tuple[int, TextLine, str]]
) -> tuple[str | None, float]:
    """Join an address and its continuation lines; prefer the Chinese address on bilingual cards."""
    if not parts:
        return None, 0.0
    parts = sorted(parts, key=lambda p: p[0])
    groups: list[list[tuple[int, TextLine, str, float]]] = []
    by_order = {o: (ln, t) for o, ln, t in leftovers}
    for part in parts:
        han = bool(_HAN.search(part[2]))
        if groups and part[0] - groups[-1][-1][0] <= 1 and bool(_HAN.search(groups[-1][-1][2])) == han:
            groups[-1].append(part)
            continue
        groups.append([part])
    for group in groups:  # an unclassified line right after an address continues it
        nxt = group[-1][0] + 1
        if nxt in by_order and (re.search(r"\d", by_order[nxt][1]) or L.ADDRESS_MARKERS_ZH.search(by_order[nxt][1])):
            ln, text = by_order[nxt]
            if bool(_HAN.search(text)) == bool(_HAN.search(group[0][2])) and ln.side == group[0][1].side:
                group.append((nxt, ln, text, 0.6))
    best = max(groups, key=lambda g: (bool(_HAN.search(g[0][2])), max(p[3] for p in g), -g[0][0]))
    han = bool(_HAN.search(best[0][2]))
    # A tilted photo can swap the rows of a short and a long line; the head of an address (province/city,
    # or a label) goes first, and an English line ending in the country goes last.
    if han:
        best.sort(key=lambda p: not (p[3] >= 0.95 or L.ADDRESS_STRONG_ZH.search(p[2])))
    else:
        best.sort(key=lambda p: bool(_COUNTRY_TAIL.search(p[2])) and p[3] < 0.95)
    texts = [p[2] for p in best]
    joined = "".join(texts) if han else " ".join(t if t.endswith(",") else t + ("," if i < len(texts) - 1 else "") for i, t in enumerate(texts))
    score = min(p[1].confidence for p in best) * max(p[3] for p in best)
    return joined.strip(" ,"), score
