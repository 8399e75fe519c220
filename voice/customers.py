"""Who a memo is about: the rep's accounts and contacts, matched exactly, by alias and fuzzily.

Theory of operation
-------------------
``Directory.build(accounts)`` turns the rep's accounts (mappings with ``id``,
``name``, optional ``aliases``, ``short_names`` and ``contacts``) into a list
of *surface forms*, each pointing at an account and maybe a contact:

* accounts: the name, aliases and short names as given, plus derived short
  names. Chinese names lose a leading place (上海, 江苏省, 浦东 ...), the legal
  suffix (股份有限公司, 有限公司, 集团 ...) and then a trailing trade word
  (设备, 科技, 贸易 ...): 上海华东电气设备有限公司 gives 华东电气设备 and 华东电气.
  English names lose legal suffixes (Inc, Ltd, Corporation, GmbH ...).
* contacts: the full name, and the forms a rep actually says: 王总, 王经理,
  王工, 老王, 小王, 王先生/女士; "Mr. Wang", "Ms. Li", "David", "David Wang".
  A Chinese surname is also romanised (王 -> Wang) so an English memo can
  name a contact stored in characters.

``Directory.find(text)`` returns every mention: exact forms first (case- and
width-insensitive), then fuzzy ones for forms of four or more characters
(rapidfuzz ``partial_ratio_alignment``, threshold 86) to survive recogniser
slips such as 华东电器 for 华东电气 or "Acmee". A form shared by several
accounts (two contacts both "王总") is kept but marked ambiguous, which lowers
its score; the caller prefers a contact of an account that is also mentioned.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

__all__ = ["CustomerMatch", "Directory", "Mention", "choose_customer", "chinese_short_names", "contact_forms", "english_short_names"]

_PLACES = tuple(sorted(
    "北京 上海 天津 重庆 广州 深圳 杭州 南京 苏州 无锡 常州 宁波 温州 嘉兴 绍兴 合肥 武汉 长沙 成都 西安 郑州 济南 青岛 "
    "厦门 福州 东莞 佛山 珠海 中山 大连 沈阳 长春 哈尔滨 石家庄 太原 南昌 昆明 贵阳 南宁 海口 兰州 银川 西宁 乌鲁木齐 "
    "呼和浩特 拉萨 香港 澳门 台湾 江苏 浙江 广东 山东 河北 河南 湖北 湖南 四川 福建 安徽 江西 辽宁 吉林 黑龙江 山西 "
    "陕西 云南 贵州 广西 海南 甘肃 宁夏 青海 新疆 西藏 内蒙古 浦东 昆山 义乌 烟台 潍坊 徐州 扬州 南通 泉州 中国".split(),
    key=len, reverse=True))
_ZH_LEGAL = ("股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "集团公司", "股份公司",
             "分公司", "总公司", "公司", "集团", "工厂", "厂")
_ZH_TRADE = ("设备", "电气", "科技", "技术", "贸易", "实业", "工业", "电子", "机械", "制造", "信息",
             "网络", "软件", "材料", "化工", "医药", "物流", "建设", "工程", "能源", "环保", "发展", "控股", "商贸",
             "投资", "国际", "电器", "汽车", "食品", "服饰", "纺织")
_EN_LEGAL = re.compile(
    r"[\s,]+(?:inc|incorporated|corp|corporation|co|company|ltd|limited|llc|plc|gmbh|ag|sa|bv|group|holdings?|"
    r"international|intl|technologies|technology|tech|industries|industrial|systems|solutions|trading|traders|"
    r"logistics|pharmaceuticals?|pharma|medical|supplies|foods?|electric|electronics|motors|labs?|partners)\.?$",
    re.IGNORECASE,
)
_GENERIC_FIRST_WORDS = frozenset(
    "the new first general national international global united american china chinese great royal "
    "north south east west central pacific atlantic asia euro city state best golden star".split())
_ZH_HONORIFICS = ("总", "总经理", "经理", "工", "董", "董事长", "主任", "老师", "局", "处", "科长", "部长", "主管",
                  "先生", "女士", "小姐", "姐", "哥", "老板", "师傅", "博士")
_EN_HONORIFICS = ("mr", "mr.", "mister", "ms", "ms.", "mrs", "mrs.", "miss", "dr", "dr.", "doctor", "director",
                  "manager", "president")
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯")
_PINYIN = dict(pair.split(":") for pair in (
    "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 徐:xu 孙:sun 马:ma 朱:zhu 胡:hu "
    "郭:guo 何:he 高:gao 林:lin 罗:luo 郑:zheng 梁:liang 谢:xie 宋:song 唐:tang 许:xu 韩:han 冯:feng 邓:deng "
    "曹:cao 彭:peng 曾:zeng 肖:xiao 田:tian 董:dong 袁:yuan 潘:pan 于:yu 蒋:jiang 蔡:cai 余:yu 杜:du 叶:ye "
    "程:cheng 苏:su 魏:wei 吕:lv 丁:ding 任:ren 沈:shen 姚:yao 卢:lu 姜:jiang 崔:cui 钟:zhong 谭:tan 陆:lu "
    "汪:wang 范:fan 金:jin 石:shi 廖:liao 贾:jia 夏:xia 韦:wei 方:fang 白:bai 邹:zou 孟:meng 熊:xiong 秦:qin "
    "邱:qiu 江:jiang 尹:yin 薛:xue 闫:yan 段:duan 雷:lei 侯:hou 龙:long 史:shi 陶:tao 黎:li 贺:he 顾:gu "
    "毛:mao 郝:hao 龚:gong 邵:shao 万:wan 钱:qian 严:yan 覃:qin 武:wu 戴:dai 莫:mo 孔:kong 向:xiang 汤:tang "
    "欧阳:ouyang 司马:sima 诸葛:zhuge 上官:shangguan 司徒:situ").split())
# Romanised surnames that are also everyday English words are only matched with a title ("Mr. He").
_ENGLISH_WORDS = frozenset("he ma long fan mo bai dong song hao ye will may rose".split())
_FUZZY_THRESHOLD = 86.0
_MIN_FUZZY_LEN = 4


@dataclass(frozen=True, slots=True)
class _Form:
    text: str
    account_id: str
    account_name: str
    contact_id: str | None
    contact_name: str | None
    weight: float  # how telling the form is: a full name 1.0, a derived short name less


@dataclass(frozen=True, slots=True)
class Mention:
    """One place in the text that names an account or a contact."""

    account_id: str
    account_name: str
    contact_id: str | None
    contact_name: str | None
    span: tuple[int, int]
    score: float  # 0..1
    ambiguous: bool


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """The customer a task is about: the account, maybe a contact, how sure we are, and the words."""

    account_id: str
    account_name: str
    contact_id: str | None
    contact_name: str | None
    score: float
    text: str


@lru_cache(maxsize=65_536)
def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _is_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value if isinstance(v, str) and v.strip()]


def chinese_short_names(name: str) -> list[str]:
    """Short names a rep would say for a Chinese company name, longest first."""
    out: list[str] = []
    core = name.strip()
    for place in _PLACES:
        if core.startswith(place) and len(core) - len(place) >= 2:
            core = core[len(place):].lstrip("市省区县")
            break
    core = re.sub(r"[（(][^)）]*[)）]", "", core)
    changed = True
    while changed:
        changed = False
        for suffix in _ZH_LEGAL:
            if core.endswith(suffix) and len(core) - len(suffix) >= 2:
                core, changed = core[: -len(suffix)], True
    if core != name:
        out.append(core)
    # Drop trade words one at a time: 华东电气设备 -> 华东电气 -> 华东.
    stripping = True
    while stripping:
        stripping = False
        for trade in sorted(_ZH_TRADE, key=len):
            if core.endswith(trade) and len(core) - len(trade) >= 2:
                core, stripping = core[: -len(trade)], True
                out.append(core)
                break
    return [s for s in dict.fromkeys(out) if len(s) >= 2]


def english_short_names(name: str) -> list[str]:
    """"Umbrella Medical Supplies Inc." -> ["Umbrella Medical Supplies", "Umbrella"]: legal and trade words dropped."""
    out = []
    core = name.strip()
    while True:
        stripped = _EN_LEGAL.sub("", core).strip(" ,.")
        if stripped == core or not stripped:
            break
        core = stripped
        out.append(core)
    words = core.split()
    if len(words) >= 2 and len(words[0]) >= 4 and words[0].lower() not in _GENERIC_FIRST_WORDS:
        out.append(words[0])  # reps say "Northwind", "Stark", "Umbrella"
    return [o for o in dict.fromkeys(out) if o != name]


def contact_forms(name: str) -> list[tuple[str, float]]:
    """What a rep says for a contact: 王总/老王/Mr. Wang for 王建国, David/Mr. Smith for David Smith."""
    name = name.strip()
    forms: list[tuple[str, float]] = [(name, 1.0)]
    if _is_han(name) and 2 <= len(name) <= 4:
        surname = next((s for s in _COMPOUND_SURNAMES if name.startswith(s)), name[0])
        forms += [(surname + h, 0.85) for h in _ZH_HONORIFICS]
        forms += [("老" + surname, 0.75), ("小" + surname, 0.75)]
        given = name[len(surname):]
        if len(given) == 2:
            forms.append((given, 0.7))
        roman = _PINYIN.get(surname)
        if roman:
            forms += [(f"{h} {roman}", 0.75) for h in _EN_HONORIFICS]
            if roman not in _ENGLISH_WORDS:
                forms.append((roman, 0.6))
    elif not _is_han(name):
        parts = name.split()
        if len(parts) >= 2:
            for surname in {parts[-1], parts[0]}:
                forms += [(f"{h} {surname}", 0.85) for h in _EN_HONORIFICS]
            forms += [(part, 0.6) for part in {parts[0], parts[-1]} if part.lower() not in _ENGLISH_WORDS]
    return forms


class Directory:
    """The rep's accounts and contacts as searchable surface forms."""

    def __init__(self, forms: Sequence[_Form]) -> None:
        owners: dict[str, set[str]] = {}
        for form in forms:
            owners.setdefault(_fold(form.text), set()).add(form.account_id)
        # (form, folded text, is Chinese, shared by several accounts), longest first, prepared once.
        self._forms = [(f, _fold(f.text), _is_han(f.text), len(owners[_fold(f.text)]) > 1)
                       for f in sorted(forms, key=lambda f: -len(f.text))]

    @classmethod
    def build(cls, accounts: Iterable[Mapping[str, Any]]) -> Directory:
        """Index ``accounts`` (mappings with id, name, aliases, short_names, contacts)."""
        forms: list[_Form] = []
        for account in accounts:
            account_id, name = str(account.get("id", "")), str(account.get("name", "") or "").strip()
            if not account_id or not name:
                continue
            given = [(n, 1.0) for n in [name, *_strings(account.get("aliases"))]]
            given += [(n, 0.95) for n in _strings(account.get("short_names")) + _strings(account.get("short_name"))]
            derived = [(short, 0.9 - 0.05 * rank) for n, _ in given
                       for rank, short in enumerate(chinese_short_names(n) if _is_han(n) else english_short_names(n))]
            for text, weight in given + derived:
                forms.append(_Form(text, account_id, name, None, None, weight))
            for contact in account.get("contacts") or ():
                contact_id = str(contact.get("id", ""))
                contact_name = str(contact.get("name", "") or "").strip()
                if not contact_id or not contact_name:
                    continue
                names = [contact_name, *_strings(contact.get("aliases"))]
                for n in names:
                    for text, weight in contact_forms(n):
                        forms.append(_Form(text, account_id, name, contact_id, contact_name, weight))
        unique: dict[tuple[str, str, str | None], _Form] = {}
        for form in forms:
            key = (_fold(form.text), form.account_id, form.contact_id)
            if key not in unique or unique[key].weight < form.weight:
                unique[key] = form
        return cls(list(unique.values()))

    def __bool__(self) -> bool:
        return bool(self._forms)

    def find(self, text: str) -> list[Mention]:
        """Every mention of an account or contact in ``text``, by position."""
        folded = _fold(text)
        mentions: list[Mention] = []
        covered: list[tuple[int, int]] = []
        for form, needle, han, ambiguous in self._forms:
            for start in _occurrences(needle, folded):
                end = start + len(needle)
                if not han and not _word_bounded(folded, start, end):
                    continue
                if any(s <= start and end <= e and (e - s) > (end - start) for s, e in covered):
                    continue  # 华东 inside an already found 华东电气
                covered.append((start, end))
                score = form.weight * (0.6 if ambiguous else 1.0)
                mentions.append(Mention(form.account_id, form.account_name, form.contact_id, form.contact_name,
                                        (start, end), score, ambiguous))
        for form, needle, han, ambiguous in self._forms:
            if len(needle) < _MIN_FUZZY_LEN or form.weight < 0.85:
                continue
            threshold = _FUZZY_THRESHOLD - 6 if len(needle) >= 12 else _FUZZY_THRESHOLD  # long names absorb a slip
            alignment = fuzz.partial_ratio_alignment(needle, folded, score_cutoff=threshold)
            if alignment is None:
                continue
            start, end = alignment.dest_start, alignment.dest_end
            similarity = alignment.score
            if not han:
                # Latin: compare whole words, so "acme" is found in "acmee" but not in "acmes-ville".
                start, end = _widen_to_words(folded, start, end)
                similarity = fuzz.ratio(needle, folded[start:end])
                if similarity < threshold:
                    continue
            elif similarity >= 100:
                continue
            if any(s < end and start < e for s, e in covered):
                continue
            covered.append((start, end))
            score = form.weight * similarity / 100.0 * 0.9 * (0.6 if ambiguous else 1.0)
            mentions.append(Mention(form.account_id, form.account_name, form.contact_id, form.contact_name,
                                    (start, end), score, ambiguous))
        return sorted(mentions, key=lambda m: (m.span[0], -m.score))


def _occurrences(needle: str, haystack: str) -> list[int]:
    """Start offsets of ``needle`` in ``haystack`` (plain search: a regex per form would thrash re's cache)."""
    found, at = [], haystack.find(needle)
    while at >= 0 and needle:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


def _word_bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() and before.isascii()) and not (after.isalnum() and after.isascii())


def _widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return start, end


def choose_customer(mentions: Sequence[Mention], text: str, *, context: Sequence[Mention] = ()) -> CustomerMatch | None:
    """The customer of one clause: the best account, with the contact that belongs to it.

    ``context`` holds the mentions of the whole memo: a contact named in this
    clause is resolved to the account named elsewhere in the memo when that
    settles an ambiguity ("王总" of 华东电气 rather than of another account).
    """
    if not mentions:
        return None
    memo_accounts = {m.account_id for m in context if m.contact_id is None}
    clause_accounts = {m.account_id for m in mentions if m.contact_id is None}
    wanted = clause_accounts or memo_accounts

    def rank(m: Mention) -> float:
        bonus = 0.3 if m.account_id in wanted else 0.0
        return m.score + bonus + (0.05 if m.contact_id else 0.0)

    best = max(mentions, key=rank)
    if best.ambiguous and best.account_id not in wanted:
        # Several accounts have a "王总" and nothing in the memo says which: name none rather than guess.
        account_only = [m for m in mentions if m.contact_id is None]
        if not account_only:
            return None
        best = max(account_only, key=lambda m: m.score)
    contact = best if best.contact_id else next(
        (m for m in sorted(mentions, key=lambda m: -m.score) if m.contact_id and m.account_id == best.account_id), None)
    account_score = max((m.score for m in mentions if m.account_id == best.account_id), default=best.score)
    words = text[best.span[0] : best.span[1]]
    return CustomerMatch(
        account_id=best.account_id,
        account_name=best.account_name,
        contact_id=contact.contact_id if contact else None,
        contact_name=contact.contact_name if contact else None,
        score=round(min(1.0, account_score), 3),
        text=words,
    )
