"""Actions in a memo: where one ends and the next begins, what kind each is, how urgent.

Theory of operation
-------------------
A memo is cut into *segments* at sentence ends (. ! ? 。！？；) and at soft
boundaries inside a sentence (commas, "and", "then", "also", 然后, 另外,
还有, 顺便, 再 ...). Each segment is scanned for an *action cue*: a verb
phrase from the lexicon below (call, visit, email, send the quote, 打电话,
拜访, 发报价 ...). Segments are then grouped: a segment with a cue opens a
new group (one future task); a segment without one is a detail of the group
before it ("..., 报价改成二十万" belongs to the call before it), or of the
group after it when it comes first ("Tomorrow morning, call Wang").
"Call Wang and Li" stays one task because " and Li" has no cue.

A cue in the past ("visited", "called", 拜访了, 已经打过) describes what
happened, not what to do: such a segment is context, never a task.

The lexicon is data: ``(kind, pattern)`` pairs tried in order, so the more
specific kinds (send_quote) win over the general ones (email, send).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ActionKind", "Group", "Priority", "find_cue", "group_segments", "priority_of", "sentences"]


class ActionKind(StrEnum):
    """What the rep has to do."""

    CALL = "call"
    VISIT = "visit"
    EMAIL = "email"
    MESSAGE = "message"
    SEND_QUOTE = "send_quote"
    SEND = "send"
    MEETING = "meeting"
    DEMO = "demo"
    CONTRACT = "contract"
    COLLECT_PAYMENT = "collect_payment"
    FOLLOW_UP = "follow_up"


class Priority(StrEnum):
    """How urgent the memo says the task is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


_K = ActionKind
_EN_CUES: tuple[tuple[ActionKind, str], ...] = (
    (_K.SEND_QUOTE, r"\b(?:send|sends|email|e-mail|mail|forward|prepare|revise|update|redo|rework|draft|submit|get|"
                    r"put together|work out|finali[sz]e|adjust|resend|give)\b[^.;!?]{0,60}?\b(?:quote|quotes|quotation|"
                    r"pricing|price list|proposal|offer|bid|price)\b"),
    (_K.SEND_QUOTE, r"\b(?:want|wants|need|needs|asked for|asking for|requested|waiting for|expect|expects|expecting)\b"
                    r"[^.;!?]{0,20}?\b(?:quote|quotation|proposal|pricing|price)\b"),
    (_K.SEND_QUOTE, r"\bquote (?:them|him|her)\b"),
    (_K.COLLECT_PAYMENT, r"\b(?:collect|chase|chasing|follow up on|get)\b[^.;!?]{0,25}?\b(?:payment|invoice|money|"
                         r"balance|deposit)\b|\b(?:overdue|unpaid) (?:invoice|payment)s?\b"),
    (_K.CONTRACT, r"\b(?:sign|signs|countersign|renew|send over|send)\b[^.;!?]{0,25}?\b(?:contract|agreement|"
                  r"renewal|po|purchase order)\b|\bget (?:the )?(?:contract|agreement) signed\b"),
    (_K.DEMO, r"\b(?:demo|demos|demonstrate|demonstration|product presentation|presentation|walkthrough|"
              r"walk (?:them|him|her) through|trial|show (?:them|him|her))\b"),
    (_K.EMAIL, r"\b(?:e-?mail|e-?mails|write to|drop (?:him|her|them) a (?:line|note)|send (?:him |her |them )?an? "
               r"(?:e-?mail|note))\b"),
    (_K.MESSAGE, r"\b(?:text|texts|message|wechat|whatsapp|sms|ping)\b"),
    (_K.CALL, r"\b(?:call|calls|calling|phone|ring|dial|give (?:him|her|them|[a-z]+) a (?:call|ring)|call back|"
              r"callback|get back to|get on the phone)\b"),
    (_K.MEETING, r"\b(?:meet|meeting|sit down with|lunch|dinner|coffee|book a room|set up a call|schedule a call|"
                 r"conference call|video call|zoom)\b"),
    (_K.VISIT, r"\b(?:visit|visits|drop by|stop by|swing by|go (?:to|see|over)|head (?:to|over)|see (?:him|her|them)"
               r" in person|pay (?:him|her|them|[a-z]+) a visit|site visit|on-?site|check in at|go back to)\b"),
    (_K.SEND, r"\b(?:send|sends|ship|deliver|courier|forward)\b"),
    (_K.FOLLOW_UP, r"\b(?:follow(?:-| )?up|check (?:in|back) with|check with|touch base|chase|circle back|"
                   r"confirm|ask (?:him|her|them|[a-z]+) (?:about|whether|if)|find out)\b"),
)
# Said first but weaker than any verb after them: "remind me to call Rachel" is a call.
_EN_FALLBACK_CUES: tuple[tuple[ActionKind, str], ...] = (
    (_K.FOLLOW_UP, r"\b(?:remind|make sure|need to|have to|don't forget|remember to|must)\b"),
)
_ZH_CUES: tuple[tuple[ActionKind, str], ...] = (
    (_K.SEND_QUOTE, r"(?:发|寄|报|做|出|给|准备|重新|更新|调整|改|提交|传|递)[^，。；！？,]{0,10}?(?:报价|报价单|方案|价格表|价目表|标书)"
                    r"|(?:要|需要|等|催)[^，。；！？,]{0,6}?报价|报个价|报一下价"
                    r"|(?:报价单?|价格表|价目表)[^，。；！？,]{0,4}(?:发|寄|传|给)"),
    (_K.COLLECT_PAYMENT, r"催款|回款|收款|尾款|货款|打款|付款|催[^，。；！？,]{0,4}(?:钱|款|发票)|结账"),
    (_K.CONTRACT, r"签合同|签约|签[^，。；！？,]{0,4}合同|合同[^，。；！？,]{0,6}(?:签|盖章|寄|发)|续约|盖章"
                  r"|(?:发|寄|送|传)[^，。；！？,]{0,6}合同"),
    (_K.DEMO, r"演示|demo|试用|展示|讲解|培训"),
    (_K.EMAIL, r"邮件|发邮|邮箱|e-?mail"),
    (_K.MESSAGE, r"微信|短信|发消息|发个消息|留言|发信息"),
    (_K.CALL, r"打电话|打个电话|回电|回个电话|致电|电话|通话|打给|call"),
    (_K.MEETING, r"开会|会议|见面|面谈|碰头|碰个头|吃饭|饭局|约[^，。；！？,]{0,6}(?:见|谈|聊|吃)|见一下|见个面|聊一聊|谈一谈|谈谈"),
    (_K.VISIT, r"拜访|上门|登门|走访|跑一趟|去一趟|过去一趟|去[^，。；！？,]{0,10}(?:看看|一趟|现场|工厂|公司|见|拜访|找)|到[^，。；！？,]{0,6}现场|实地"),
    (_K.SEND, r"寄|快递|发[^，。；！？,]{0,8}(?:样品|资料|样本|目录|手册|画册|说明书|合同|文件|规格书|纪要|对账单|发票|报告|清单|图纸)"
              r"|送[^，。；！？,]{0,6}(?:样品|资料|过去)|[把将](?![^，。；！？,]{0,8}(?:合同|报价))[^，。；！？,]{1,12}(?:发|寄|送|传)给"),
    (_K.FOLLOW_UP, r"跟进|跟踪|跟一下|跟下|确认|问一下|问问|催一下|催|落实|联系|沟通|了解一下|核实"),
)
_ZH_FALLBACK_CUES: tuple[tuple[ActionKind, str], ...] = (
    (_K.VISIT, r"(?<!过)去(?!年|掉|除|过|了)[\u4e00-\u9fff]{2,}"),  # 下午去恒瑞: going to a place is a visit
    (_K.FOLLOW_UP, r"提醒|记得|别忘了|务必"),
)
_EN_PAST = re.compile(
    r"\b(?:visited|called|emailed|e-mailed|met|had (?:a|the|lunch|dinner|coffee)|sent|spoke|talked|phoned|texted|"
    r"messaged|demoed|signed|went to|dropped by|stopped by|just (?:got|came|left|finished)|was at|were at|"
    r"finished|completed|wrapped up|closed|received|delivered|got)\b",
    re.IGNORECASE,
)
_ZH_PAST = re.compile(r"刚|已经|刚才|刚刚|今天上午去了|昨天|上周|(?:拜访|见|打|去|开|发|签|聊|谈|吃)(?:了|过(?![去来]))|完[^，。；！？,]{0,3}了")
_HIGH_EN = re.compile(r"\b(?:urgent|urgently|asap|a\.s\.a\.p|as soon as possible|right away|immediately|top priority|"
                      r"high priority|critical|important|first thing|without delay|straight away)\b", re.IGNORECASE)
_LOW_EN = re.compile(r"\b(?:no rush|low priority|when(?:ever)? (?:you|i) (?:get|have) (?:a )?(?:chance|time)|not urgent|"
                     r"sometime|at some point)\b", re.IGNORECASE)
_HIGH_ZH = re.compile(r"尽快|马上|立刻|立即|赶紧|赶快|紧急|加急|急|务必|重要|第一时间|抓紧|火速")
_LOW_ZH = re.compile(r"不急|有空|有时间的话|不着急|顺便|抽空")

_BOUNDARY = re.compile(r"[.!?;。！？；\n]+")
_ABBREVIATIONS = re.compile(r"(?:\b(?:mr|mrs|ms|dr|st|prof|inc|ltd|co|corp|no|vs|approx|e\.g|i\.e|etc|jr|sr)|\b[a-z])$",
                            re.IGNORECASE)
_EN_SOFT = re.compile(r",\s*(?:and\s+then|and|then|also|plus)?\s*|\s+(?:and\s+then|and|then|also|plus)\s+", re.IGNORECASE)
_ZH_SOFT = re.compile(r"[，,]\s*(?:然后|另外|还有|顺便|再|并且|同时|以及|还要|还得)?|然后|另外|还有|顺便|并且|同时|之后再|再去|再给")


_COMPILED: dict[str, tuple[tuple[tuple[ActionKind, re.Pattern[str]], ...], ...]] = {
    lang: tuple(tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in table) for table in tables)
    for lang, tables in (("en", (_EN_CUES, _EN_FALLBACK_CUES)), ("zh", (_ZH_CUES, _ZH_FALLBACK_CUES)))
}


@dataclass(frozen=True, slots=True)
class Cue:
    """An action verb phrase found in a segment."""

    kind: ActionKind
    span: tuple[int, int]
    past: bool


@dataclass(frozen=True, slots=True)
class Group:
    """One future task's words: the segment with the action and its details, as spans of the memo."""

    span: tuple[int, int]
    cue: Cue | None
    sentence: tuple[int, int]
    core: tuple[int, int] = (0, 0)  # the segment holding the action verb
    past: tuple[tuple[int, int], ...] = ()  # segments inside ``span`` that tell what already happened


def find_cue(text: str, *, lang: str) -> Cue | None:
    """The most specific action cue in ``text`` (a segment), or None."""
    tables = _COMPILED["zh" if lang == "zh" else "en"]
    for table in tables:
        best: tuple[int, int, ActionKind, tuple[int, int]] | None = None
        for rank, (kind, pattern) in enumerate(table):
            match = pattern.search(text)
            # The verb said first is the action ("Ping Bolton about the demo" is a message);
            # at the same place the more specific kind wins ("email the quote" is send_quote).
            if match and (best is None or (match.start(), rank) < best[:2]):
                best = (match.start(), rank, kind, match.span())
        if best is not None:
            return Cue(best[2], best[3], _is_past(text, best[3], lang=lang))
    # "Visited Acme yesterday", 刚见了刘总: no action verb in the present, but a report of the past.
    past = (_ZH_PAST if lang == "zh" else _EN_PAST).search(text)
    if past and _is_past(text, past.span(), lang=lang):
        return Cue(ActionKind.FOLLOW_UP, past.span(), True)
    return None


def _is_past(text: str, span: tuple[int, int], *, lang: str) -> bool:
    if lang == "zh":
        window = text[max(0, span[0] - 6) : span[1] + 2]
        if re.search(r"(?:要|得|需要|记得|再|明天|下周|回头|还要|请|帮我|准备)", text[: span[0]]):
            return False
        return bool(_ZH_PAST.search(window))
    before = text[: span[0]]
    if re.search(r"\b(?:need to|needs to|have to|has to|must|will|should|going to|gonna|remember to|please|"
                 r"don't forget to|let's|plan to|want to|i'll|we'll)\b", before, re.IGNORECASE):
        return False
    if re.search(r"\b(?:had|just|already|was|were|did)\b[\w\s']{0,12}$", before, re.IGNORECASE):
        return True  # "had a meeting", "just called"
    if re.match(r"[^,;.]{0,40}?\b(?:was|were|went|took place|had been)\b", text[span[1]:], re.IGNORECASE):
        return True  # "Lunch with the Acme team was great": the noun is the subject of a past verb
    return bool(_EN_PAST.match(text, span[0]))


def priority_of(text: str, *, lang: str) -> Priority:
    """High for urgent/asap/尽快/马上, low for no-rush/不急, normal otherwise."""
    high, low = (_HIGH_ZH, _LOW_ZH) if lang == "zh" else (_HIGH_EN, _LOW_EN)
    if low.search(text) and not re.search(r"不急不|不急着", text):
        return Priority.LOW
    if high.search(text):
        return Priority.HIGH
    return Priority.NORMAL


def _segments(text: str, start: int, end: int, *, lang: str) -> list[tuple[int, int, str]]:
    """Pieces of one sentence, each with how it was cut off from the one before: start, comma or and."""
    soft = _ZH_SOFT if lang == "zh" else _EN_SOFT
    cuts: list[tuple[int, int, str]] = []
    for match in soft.finditer(text, start, end):
        kind = "comma" if re.match(r"\s*[,，]", match.group()) else "and"
        cuts.append((match.start(), match.end(), kind))
    pieces = []
    cursor, how = start, "start"
    for cut_start, cut_end, kind in cuts:
        if cut_start > cursor:
            pieces.append((cursor, cut_start, how))
            cursor, how = cut_end, kind
    pieces.append((cursor, end, how))
    return [(s, e, k) for s, e, k in pieces if text[s:e].strip(" ,，.。")]


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans; "Mr. Wang", "1.2 million" and "a.m." do not end a sentence."""
    spans = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        mark_start, mark_end = match.span()
        if match.group() == ".":
            if _ABBREVIATIONS.search(text[max(0, mark_start - 6) : mark_start]):
                continue
            if mark_start > 0 and text[mark_start - 1].isdigit() and text[mark_end : mark_end + 1].isdigit():
                continue
        if text[start:mark_start].strip():
            spans.append((start, mark_end))
        start = mark_end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def group_segments(text: str, *, lang: str, names: Mapping[int, str] | None = None) -> list[Group]:
    """The memo cut into groups, each holding at most one future action (see module doc).

    ``names`` maps the offsets where a known customer is named to its account:
    a short piece that opens with another account after "and" repeats the
    previous action for it ("Call Umbrella tomorrow and Acme on Monday").
    """
    names = names or {}
    groups: list[Group] = []
    for s_start, s_end in sentences(text):
        pending: list[tuple[int, int]] = []  # segments before the first action of the sentence
        past: list[tuple[int, int]] = []
        sentence_groups: list[Group] = []
        for seg_start, seg_end, how in _segments(text, s_start, s_end, lang=lang):
            cue = find_cue(text[seg_start:seg_end], lang=lang)
            lead = len(text[seg_start:seg_end]) - len(text[seg_start:seg_end].lstrip())
            opens = cue is not None and not cue.past
            if opens and sentence_groups and cue is not None:
                if cue.kind is ActionKind.FOLLOW_UP:
                    opens = False  # "call Sun, 问一下验收情况": the purpose of the call, not another task
                elif how == "and" and lang != "zh" and cue.span[0] - lead > 12:
                    opens = False  # "Meet Nancy and Andrew ... for dinner": "and" joined names, not verbs
            if (cue is None and sentence_groups and how == "and" and (seg_start + lead) in names
                    and len(text[seg_start:seg_end].split()) <= 6):
                previous = sentence_groups[-1].cue
                last_span = sentence_groups[-1].span
                same = any(last_span[0] <= at < last_span[1] and account == names[seg_start + lead]
                           for at, account in names.items())
                if previous is not None and not same:
                    cue = Cue(previous.kind, (lead, lead), False)
                    opens = True
            if opens and cue is not None:
                absolute = Cue(cue.kind, (seg_start + cue.span[0], seg_start + cue.span[1]), False)
                begin = pending[0][0] if pending and not sentence_groups else seg_start
                inside = tuple(p for p in past if p[0] >= begin)
                sentence_groups.append(Group((begin, seg_end), absolute, (s_start, s_end), (seg_start, seg_end), inside))
                pending = []
            elif sentence_groups:
                last = sentence_groups[-1]
                extra = ((seg_start, seg_end),) if cue is not None and cue.past else ()
                sentence_groups[-1] = Group((last.span[0], seg_end), last.cue, last.sentence, last.core,
                                            last.past + extra)
            else:
                pending.append((seg_start, seg_end))
                if cue is not None:
                    past.append((seg_start, seg_end))
        if not sentence_groups:
            sentence_groups = [Group((s_start, s_end), None, (s_start, s_end), (s_start, s_end), tuple(past))]
        groups.extend(sentence_groups)
    return groups
