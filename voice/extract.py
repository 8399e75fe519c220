"""Memo text -> suggested tasks: action, due, customer, amount, priority, confidence.

Theory of operation
-------------------
``extract_tasks`` is pure: text, the recording time and the rep's accounts
in, ``SuggestedTask`` values out. It runs three finders over the whole memo
once and then hands what they found to the action groups of ``actions``:

1. ``due.times_and_amounts``: the date resolver (``fieldsync.voice.when``)
   against the *recording* time in the rep's zone, never the upload or
   server time ("tomorrow" in a memo recorded on Sunday evening and uploaded
   on Monday still means Monday), and the money amounts.
2. ``Directory.find`` for accounts and contacts.
3. ``group_segments``: one group per future action.

Each group takes the time expressions, mentions and amounts inside its span.
What a group lacks it inherits: the due date from another action of the same
sentence ("Tomorrow call Wang and email Li"), the customer from the action
before it in the memo ("Visited Acme. Send them the quote by Friday"), at a
lower confidence. A memo with no action verb but a date or a customer still
yields one low-confidence follow-up, because a rep who dictates a memo means
"remind me"; a memo with neither yields nothing.

How a time expression becomes a due moment is ``due.due_from_when``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from fieldsync.sync import errors as E
from fieldsync.voice.actions import ActionKind, Group, Priority, group_segments, priority_of
from fieldsync.voice.amounts import Amount
from fieldsync.voice.customers import CustomerMatch, Directory, choose_customer
from fieldsync.voice.due import due_from_when, is_bare_part_of_day, reference_time, times_and_amounts
from fieldsync.voice.language import memo_language
from fieldsync.voice.when import When

__all__ = ["SuggestedTask", "extract_tasks"]

_MAX_MEMO_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class SuggestedTask:
    """One follow-up the memo asks for, to be confirmed by the rep."""

    kind: ActionKind
    title: str
    due_at: datetime | None
    all_day: bool
    due_text: str | None
    account_id: str | None
    account_name: str | None
    contact_id: str | None
    contact_name: str | None
    amount: Decimal | None
    currency: str | None
    priority: Priority
    source_text: str
    span: tuple[int, int]
    confidence: float
    lang: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (ISO datetimes with offset, amounts as strings)."""
        return {
            "kind": self.kind.value,
            "title": self.title,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "all_day": self.all_day,
            "due_text": self.due_text,
            "account_id": self.account_id,
            "account_name": self.account_name,
            "contact_id": self.contact_id,
            "contact_name": self.contact_name,
            "amount": str(self.amount) if self.amount is not None else None,
            "currency": self.currency,
            "priority": self.priority.value,
            "source_text": self.source_text,
            "span": list(self.span),
            "confidence": self.confidence,
            "lang": self.lang,
        }


def _inside(span: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= span[0] and span[1] <= outer[1]


@dataclass(frozen=True, slots=True)
class _Draft:
    group: Group
    due: tuple[datetime, bool, When] | None
    due_inherited: bool
    customer: CustomerMatch | None
    customer_inherited: bool
    amount: Amount | None


def extract_tasks(
    text: str,
    *,
    recorded_at: datetime,
    lang: str = "auto",
    accounts: Iterable[Mapping[str, Any]] | Directory = (),
    time_zone: str | None = None,
) -> list[SuggestedTask]:
    """The suggested tasks in a memo transcript, due dates resolved against ``recorded_at``.

    ``accounts`` is the rep's account book (mappings) or a ``Directory`` built
    from it once and reused across memos.
    """
    text = (text or "").strip()
    if not text:
        return []
    if len(text) > _MAX_MEMO_CHARS:
        raise E.error_for(E.MEMO_TOO_LARGE, f"the transcript exceeds {_MAX_MEMO_CHARS} characters",
                          limit=_MAX_MEMO_CHARS)
    reference = reference_time(recorded_at, time_zone)
    lang = memo_language(text, lang)
    directory = accounts if isinstance(accounts, Directory) else Directory.build(accounts)

    mentions = directory.find(text) if directory else []
    all_whens, amounts = times_and_amounts(text, reference, lang)
    whens = [w for w in all_whens if due_from_when(w, reference)]
    groups = group_segments(text, lang=lang, names={m.span[0]: m.account_id for m in mentions})

    drafts: list[_Draft] = []
    previous_customer: CustomerMatch | None = None
    for group in groups:
        own_whens = sorted(
            (w for w in whens if _inside(w.span, group.span) and not any(_inside(w.span, p) for p in group.past)),
            # the action's own segment first, then dated expressions before a bare "dinner" or "下午"
            key=lambda w: (not _inside(w.span, group.core), is_bare_part_of_day(w, reference)),
        )
        own_mentions = [m for m in mentions if _inside(m.span, group.span)]
        due = _due(own_whens, reference)
        customer = choose_customer(own_mentions, text, context=mentions)
        own_amounts = [a for a in amounts if _inside(a.span, group.span)]
        if group.cue is None and customer is not None:
            previous_customer = customer
        if group.cue is None:
            drafts.append(_Draft(group, due, False, customer, False, _strongest(own_amounts)))
            continue
        inherited = (customer is None and previous_customer is not None
                     and not _names_someone_else(text[group.span[0] : group.span[1]], lang))
        drafts.append(_Draft(group, due, False, customer or (previous_customer if inherited else None), inherited,
                             _strongest(own_amounts)))
        if customer is None and not inherited:
            previous_customer = None  # "visit Globex and send them samples": "them" is not the earlier customer
        previous_customer = customer or previous_customer

    drafts = _attach_detail_amounts(drafts)
    actions = _merge_send_it([d for d in drafts if d.group.cue is not None], text)
    if not actions and not _NOTHING_TO_DO.search(text):
        fallback = [d for d in drafts if not d.group.past
                    and (d.customer is not None or (d.due is not None and d.due[0].date() > reference.date()))]
        actions = fallback[:1]
    actions = _share_dates(actions)
    strongest = _strongest(amounts)
    if len(actions) == 1 and actions[0].amount is None and strongest is not None:
        actions[0] = _with_amount(actions[0], strongest)  # a one-task memo: any amount in it is the task's
    return [_task(d, text, lang) for d in actions]


_EN_NOT_NAMES = frozenset(
    "I I'll I'm OK Okay So Also Then And Please Monday Tuesday Wednesday Thursday Friday Saturday Sunday January "
    "February March April May June July August September October November December Mr Mrs Ms Dr Mister CEO CFO "
    "CTO VP PO RFQ USD RMB CNY EUR GBP HK US UK EU Q1 Q2 Q3 Q4 AM PM ASAP Christmas Easter".split())
_ZH_UNKNOWN_PERSON = re.compile(r"[\u4e00-\u9fff](?:总|经理|工|董|主任|老师|先生|女士|小姐)")


def _names_someone_else(words: str, lang: str) -> bool:
    """Does the action name a person or company we do not know ("visit Globex", 找刘总)?"""
    if lang == "zh":
        return bool(_ZH_UNKNOWN_PERSON.search(words))
    tokens = re.findall(r"[A-Za-z][\w'&-]*", words)
    return any(t[0].isupper() and t.rstrip(".") not in _EN_NOT_NAMES for t in tokens[1:])


def _strongest(amounts: Sequence[Amount]) -> Amount | None:
    """The group's amount: one with a currency or magnitude before a bare number, then the first."""
    if not amounts:
        return None
    return min(amounts, key=lambda a: (a.currency is None and not re.search(r"[万亿kKmMbB]|thousand|million", a.text),
                                       a.span[0]))


def _attach_detail_amounts(drafts: list[_Draft]) -> list[_Draft]:
    """An amount in a sentence without an action ("Deal is 1.2 million.") belongs to the action before it."""
    out = list(drafts)
    last_action = None
    for i, draft in enumerate(out):
        if draft.group.cue is not None:
            last_action = i
        elif draft.amount is not None and last_action is not None and out[last_action].amount is None:
            out[last_action] = _with_amount(out[last_action], draft.amount)
    return out


_NOTHING_TO_DO = re.compile(r"nothing (?:to do|on my list|urgent to do)|no action|没什么要做|没有要做|没什么事|无需跟进",
                            re.IGNORECASE)


def _merge_send_it(actions: list[_Draft], text: str) -> list[_Draft]:
    """"Stark wants a quote for 40 trucks. Send it by Wednesday." is one task: the quote, due Wednesday."""
    out: list[_Draft] = []
    for draft in actions:
        core = text[draft.group.core[0] : draft.group.core[1]]
        if (out and draft.group.cue is not None
                and re.match(r"\W*(?:then\s+|and\s+)?(?:send|email|forward|mail|submit)\s+(?:it|this|that)\b", core, re.I)
                and out[-1].group.cue is not None
                and out[-1].group.cue.kind in (ActionKind.SEND_QUOTE, ActionKind.CONTRACT, ActionKind.SEND)):
            previous = out[-1]
            out[-1] = _Draft(previous.group, previous.due or draft.due, previous.due_inherited, previous.customer,
                             previous.customer_inherited, previous.amount or draft.amount)
            continue
        out.append(draft)
    return out


def _due(whens: Sequence[When], reference: datetime) -> tuple[datetime, bool, When] | None:
    for when in whens:
        resolved = due_from_when(when, reference)
        if resolved is not None:
            return resolved[0], resolved[1], when
    return None


def _share_dates(drafts: list[_Draft]) -> list[_Draft]:
    """An action without a date takes the date of a neighbouring action in the same sentence."""
    out = list(drafts)
    for i, draft in enumerate(out):
        if draft.due is not None:
            continue
        same = [d for d in drafts if d.group.sentence == draft.group.sentence and d.due is not None]
        before = [d for d in same if d.group.span[0] < draft.group.span[0]]
        donor = before[-1] if before else (same[0] if same else None)
        if donor is not None:
            out[i] = _Draft(draft.group, donor.due, True, draft.customer, draft.customer_inherited, draft.amount)
    return out


def _with_amount(draft: _Draft, amount: Amount) -> _Draft:
    return _Draft(draft.group, draft.due, draft.due_inherited, draft.customer, draft.customer_inherited, amount)


_EN_FILLERS = re.compile(
    r"^(?:(?:ok(?:ay)?|so|um+|uh+|and|then|also|plus|oh|right|note to self|reminder|remember to|don't forget to|"
    r"remind me to|first thing|"
    r"i need to|we need to|need to|i have to|have to|i should|i must|must|please|i'll|we'll|let's|gotta|"
    r"i want to|make sure to)[\s,:]+)+",
    re.IGNORECASE,
)
_ZH_FILLERS = re.compile(r"^(?:(?:嗯|那个|然后|另外|还有|顺便|再|并且|同时|记得|别忘了|我要|我得|要|得|需要|请|帮我|提醒我)[\s，,]*)+")


def _title(draft: _Draft, text: str, lang: str) -> str:
    """The action's own words, without what already happened and without the due expression."""
    start, end = draft.group.span
    cuts = list(draft.group.past)
    if draft.due is not None and not draft.due_inherited:
        w_start, w_end = draft.due[2].span
        if lang == "zh":
            tail = re.match(r"(?:之前|以前|前|之内|以内|内)", text[w_end:])
            w_end += tail.end() if tail else 0
        else:
            head = re.search(r"\b(?:by|on|at|before|until|no later than)\s+$", text[start:w_start], re.IGNORECASE)
            w_start -= len(head.group()) if head else 0
        cuts.append((w_start, w_end))
    pieces, cursor = [], start
    for c_start, c_end in sorted(cuts):
        if c_end <= cursor or c_start >= end:
            continue
        pieces.append(text[cursor:max(cursor, c_start)])
        cursor = max(cursor, c_end)
    pieces.append(text[cursor:end])
    words = " ".join(pieces)
    if lang == "zh":
        words = re.sub(r"\s+", "", words)
        words = re.sub(r"^[，,。；;！!？?\s]+|[，,。；;！!？?\s]+$", "", words)
        words = _ZH_FILLERS.sub("", words)
        words = re.sub(r"[，,]{2,}", "，", words).strip("，,。；;的在")
    else:
        words = re.sub(r"\s+", " ", words).strip(" ,.;!?")
        words = _EN_FILLERS.sub("", words)
        words = re.sub(r"\s+(?:by|on|at|before|until|for|in)\s*(?=,|$)", "", words).strip(" ,.;")
        words = re.sub(r"\s+([,.;])", r"\1", words)
        words = re.sub(r",{2,}", ",", words)
        words = words[:1].upper() + words[1:]
    if not words:
        words = _default_title(draft, lang)
    return words if len(words) <= 120 else words[:117].rstrip() + "..."


_LABELS_EN = {"call": "Call", "visit": "Visit", "email": "Email", "message": "Message", "send_quote": "Send quote to",
              "send": "Send to", "meeting": "Meet", "demo": "Demo for", "contract": "Contract with",
              "collect_payment": "Collect payment from", "follow_up": "Follow up with"}
_LABELS_ZH = {"call": "给{}打电话", "visit": "拜访{}", "email": "给{}发邮件", "message": "给{}发消息",
              "send_quote": "给{}发报价", "send": "给{}寄送资料", "meeting": "与{}开会", "demo": "给{}演示",
              "contract": "与{}签合同", "collect_payment": "向{}催款", "follow_up": "跟进{}"}


def _default_title(draft: _Draft, lang: str) -> str:
    kind = draft.group.cue.kind if draft.group.cue else ActionKind.FOLLOW_UP
    who = (draft.customer.contact_name or draft.customer.account_name) if draft.customer else ""
    if lang == "zh":
        return _LABELS_ZH[kind.value].format(who or "客户")
    return f"{_LABELS_EN[kind.value]} {who or 'customer'}".strip()


def _confidence(draft: _Draft) -> float:
    score = 0.45 if draft.group.cue is not None else 0.2
    if draft.due is not None:
        score += 0.1 if draft.due_inherited else 0.2
    if draft.customer is not None:
        score += 0.25 * draft.customer.score * (0.6 if draft.customer_inherited else 1.0)
    if draft.amount is not None:
        score += 0.05
    return round(max(0.05, min(0.99, score)), 2)


def _task(draft: _Draft, text: str, lang: str) -> SuggestedTask:
    start, end = draft.group.span
    source = text[draft.group.sentence[0] : draft.group.sentence[1]].strip()
    customer = draft.customer
    return SuggestedTask(
        kind=draft.group.cue.kind if draft.group.cue else ActionKind.FOLLOW_UP,
        title=_title(draft, text, lang),
        due_at=draft.due[0] if draft.due else None,
        all_day=draft.due[1] if draft.due else False,
        due_text=draft.due[2].text if draft.due else None,
        account_id=customer.account_id if customer else None,
        account_name=customer.account_name if customer else None,
        contact_id=customer.contact_id if customer else None,
        contact_name=customer.contact_name if customer else None,
        amount=draft.amount.value if draft.amount else None,
        currency=draft.amount.currency if draft.amount else None,
        priority=priority_of(text[start:end], lang=lang),
        source_text=source,
        span=(start, end),
        confidence=_confidence(draft),
        lang=lang,
    )
