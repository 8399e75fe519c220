"""Task extraction: several tasks per memo, recording-time dates, customers, amounts, priority, bad input."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from fieldsync.sync import errors as E
from fieldsync.voice import extract_tasks
from fieldsync.voice.actions import ActionKind, Priority


def test_two_tasks_from_one_english_memo(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """"Call David tomorrow and email the quote to Li Na by Friday" gives a call and a quote, each with its date."""
    tasks = extract_tasks("Call David tomorrow and email the quote to Li Na by Friday", recorded_at=recorded_at,
                          lang="en", accounts=accounts)
    assert [t.kind for t in tasks] == [ActionKind.CALL, ActionKind.SEND_QUOTE]
    assert tasks[0].due_at is not None and tasks[0].due_at.date().isoformat() == "2026-11-23"
    assert tasks[1].due_at is not None and tasks[1].due_at.date().isoformat() == "2026-11-27"
    assert [t.contact_id for t in tasks] == ["con-david", "con-li"]
    assert all(t.account_id == "acc-acme" for t in tasks)


def test_two_tasks_from_one_chinese_memo(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """A Chinese memo with a visit and a quote gives two tasks for the same customer."""
    tasks = extract_tasks("明天上午去华东电气拜访王总，然后给他发报价，尽快", recorded_at=recorded_at, lang="zh",
                          accounts=accounts)
    assert [t.kind for t in tasks] == [ActionKind.VISIT, ActionKind.SEND_QUOTE]
    assert {t.account_id for t in tasks} == {"acc-huadong"}
    assert tasks[1].priority is Priority.HIGH


def test_the_issue_examples(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """The issue's two memos: a call next Tuesday at 15:00 about 200 000, to the right customer."""
    english = extract_tasks("Call Mr. Wang at Huadong Electric next Tuesday at 3 about the revised quote, 200 thousand",
                            recorded_at=recorded_at, lang="en", accounts=accounts)
    chinese = extract_tasks("下周二下午三点给华东电气的王总回电话，报价改成二十万", recorded_at=recorded_at, lang="zh",
                            accounts=accounts)
    for tasks in (english, chinese):
        assert len(tasks) == 1
        task = tasks[0]
        assert task.kind is ActionKind.CALL
        assert task.due_at == datetime.fromisoformat("2026-11-24T15:00:00+08:00")
        assert not task.all_day
        assert (task.account_id, task.contact_id) == ("acc-huadong", "con-wang")
        assert task.amount == Decimal(200_000)
    assert chinese[0].currency == "CNY"
    assert english[0].currency is None


def test_tomorrow_resolves_from_the_recording_time_not_today(accounts: list[dict[str, Any]]) -> None:
    """A memo recorded on 5 January and processed much later still means 6 January."""
    recorded = datetime.fromisoformat("2026-01-05T18:30:00+08:00")
    tasks = extract_tasks("Call Acme tomorrow", recorded_at=recorded, lang="en", accounts=accounts)
    assert tasks[0].due_at is not None
    assert tasks[0].due_at.date().isoformat() == "2026-01-06"


def test_recording_time_is_read_in_the_reps_zone(accounts: list[dict[str, Any]]) -> None:
    """23:30 UTC is already the next morning in Shanghai, so "明天" is two UTC dates later."""
    recorded = datetime.fromisoformat("2026-11-22T23:30:00+00:00")
    tasks = extract_tasks("明天给恒瑞打电话", recorded_at=recorded, lang="zh", accounts=accounts,
                          time_zone="Asia/Shanghai")
    assert tasks[0].due_at is not None
    assert tasks[0].due_at.date().isoformat() == "2026-11-24"
    assert tasks[0].due_at.utcoffset() == timedelta(hours=8)


def test_deadline_intervals_are_due_on_their_last_day(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """"月底前" and "by the end of the month" are all-day tasks due on 30 November."""
    for text, lang in (("月底前把合同寄给恒瑞的刘总", "zh"), ("Send Acme the contract by the end of the month", "en")):
        task = extract_tasks(text, recorded_at=recorded_at, lang=lang, accounts=accounts)[0]
        assert task.kind is ActionKind.CONTRACT
        assert task.all_day
        assert task.due_at is not None and task.due_at.date().isoformat() == "2026-11-30"


def test_past_events_are_not_tasks(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """What already happened ("Visited Acme today", 拜访了) is context, not a task."""
    assert extract_tasks("Just had dinner with David from Acme. Nice guy.", recorded_at=recorded_at, lang="en",
                         accounts=accounts) == []
    tasks = extract_tasks("Visited Acme today, they asked for a quote by Friday.", recorded_at=recorded_at,
                          lang="en", accounts=accounts)
    assert [t.kind for t in tasks] == [ActionKind.SEND_QUOTE]
    assert tasks[0].account_id == "acc-acme"
    assert "Visited" not in tasks[0].title


def test_pronoun_inherits_the_customer_of_the_memo(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """"Send them the pricing" after a sentence about Acme is for Acme, at a lower confidence."""
    tasks = extract_tasks("Lunch with the Acme team was great. Send them the pricing by Friday.",
                          recorded_at=recorded_at, lang="en", accounts=accounts)
    assert len(tasks) == 1 and tasks[0].account_id == "acc-acme"
    direct = extract_tasks("Send Acme the pricing by Friday.", recorded_at=recorded_at, lang="en", accounts=accounts)
    assert tasks[0].confidence < direct[0].confidence


def test_unknown_company_does_not_inherit(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """An action naming a company outside the book is not pinned on the previous customer."""
    tasks = extract_tasks("Call Acme tomorrow, then visit Hooli on Thursday.", recorded_at=recorded_at, lang="en",
                          accounts=accounts)
    assert [t.account_id for t in tasks] == ["acc-acme", None]


def test_elided_verb_repeats_the_action(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """"Call Acme tomorrow and Globex on Friday" is two calls."""
    tasks = extract_tasks("Call Acme tomorrow and Globex on Friday.", recorded_at=recorded_at, lang="en",
                          accounts=accounts)
    assert [(t.kind, t.account_id) for t in tasks] == [(ActionKind.CALL, "acc-acme"), (ActionKind.CALL, "acc-globex")]


def test_priority_words(recorded_at: datetime) -> None:
    """urgent/马上 raise the priority, no rush/不急 lower it, and ASAP is not a due date."""
    urgent = extract_tasks("Urgent: call Acme about the recall", recorded_at=recorded_at, lang="en")[0]
    asap = extract_tasks("Email Acme ASAP", recorded_at=recorded_at, lang="en")[0]
    calm = extract_tasks("No rush, send the brochure to Acme sometime", recorded_at=recorded_at, lang="en")[0]
    now = extract_tasks("马上给恒瑞回电话", recorded_at=recorded_at, lang="zh")[0]
    assert urgent.priority is Priority.HIGH and asap.priority is Priority.HIGH and now.priority is Priority.HIGH
    assert asap.due_at is None and now.due_at is None
    assert calm.priority is Priority.LOW


def test_money_next_to_a_weekday_is_not_a_date(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """"by Friday, 12 thousand dollars" is due Friday with 12 000 USD, not due on some 12th."""
    task = extract_tasks("Collect payment from Acme by Friday, 12 thousand dollars.", recorded_at=recorded_at,
                         lang="en", accounts=accounts)[0]
    assert task.due_at is not None and task.due_at.date().isoformat() == "2026-11-27"
    assert (task.amount, task.currency) == (Decimal(12_000), "USD")


def test_memo_without_action_date_or_customer_has_no_task(recorded_at: datetime) -> None:
    """Small talk gives no task; an empty transcript gives none either."""
    assert extract_tasks("The weather was terrible today.", recorded_at=recorded_at, lang="en") == []
    assert extract_tasks("今天天气不错，路上不堵", recorded_at=recorded_at, lang="zh") == []
    assert extract_tasks("   ", recorded_at=recorded_at, lang="en") == []


def test_bare_reminder_with_a_date_is_a_low_confidence_follow_up(recorded_at: datetime) -> None:
    """A memo with a future date but no verb becomes a follow-up the rep can confirm or drop."""
    tasks = extract_tasks("the customer next week", recorded_at=recorded_at, lang="en")
    assert [t.kind for t in tasks] == [ActionKind.FOLLOW_UP]
    assert tasks[0].confidence < 0.5


def test_task_fields_are_complete(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """Every task carries its source sentence, a confidence in (0, 1), its language and a JSON form."""
    task = extract_tasks("Please call Acme tomorrow at 10. It is about the 5k order.", recorded_at=recorded_at,
                         lang="auto", accounts=accounts)[0]
    assert task.source_text == "Please call Acme tomorrow at 10."
    assert 0 < task.confidence < 1
    assert task.lang == "en"
    assert task.title == "Call Acme"
    data = task.to_dict()
    assert data["due_at"] == "2026-11-23T10:00:00+08:00"
    assert data["amount"] == "5000" and data["kind"] == "call"


def test_naive_recording_time_without_zone_is_refused() -> None:
    """A recording time without an offset or a time zone is FS-6006."""
    with pytest.raises(E.ServiceError) as err:
        extract_tasks("Call Acme tomorrow", recorded_at=datetime(2026, 11, 22, 17, 5), lang="en")
    assert err.value.code is E.INVALID_MEMO_REQUEST


def test_naive_recording_time_with_zone_is_placed_in_it() -> None:
    """A local recording time plus the rep's zone is enough."""
    task = extract_tasks("Call Acme tomorrow", recorded_at=datetime(2026, 11, 22, 23, 5), lang="en",
                         time_zone="Asia/Shanghai")[0]
    assert task.due_at == datetime.fromisoformat("2026-11-23T00:00:00+08:00")


def test_unknown_time_zone_is_refused(recorded_at: datetime) -> None:
    """An unknown IANA zone name is FS-6006."""
    with pytest.raises(E.ServiceError) as err:
        extract_tasks("Call Acme", recorded_at=recorded_at, lang="en", time_zone="Mars/Olympus_Mons")
    assert err.value.code is E.INVALID_MEMO_REQUEST


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Il faut appeler le client demain pour le devis", "auto"), ("Morgen den Kunden anrufen und das Angebot schicken", "en"),
     ("明日お客様に電話する", "auto"), ("Позвонить клиенту завтра", "auto"), ("Call Acme tomorrow", "fr")],
)
def test_other_languages_are_unsupported(recorded_at: datetime, text: str, lang: str) -> None:
    """French, German, Japanese and Russian memos, or a declared French memo, are FS-6004."""
    with pytest.raises(E.ServiceError) as err:
        extract_tasks(text, recorded_at=recorded_at, lang=lang)
    assert err.value.code is E.UNSUPPORTED_LANGUAGE


def test_a_meal_word_does_not_override_the_date(accounts: list[dict[str, Any]]) -> None:
    """"Book dinner with Acme on Friday at 7 pm" is due Friday 19:00, not tonight."""
    monday = datetime.fromisoformat("2026-12-07T13:00:00+00:00")
    task = extract_tasks("Book dinner with David Miller on Friday at 7 pm.", recorded_at=monday, lang="en",
                         accounts=accounts)[0]
    assert task.kind is ActionKind.MEETING
    assert task.due_at == datetime.fromisoformat("2026-12-11T19:00:00+00:00")


def test_money_beats_a_year_in_the_same_task(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """"the 2027 budget, around 3 million RMB" has the amount 3 000 000 CNY."""
    task = extract_tasks("Follow up with Acme next month about the 2027 budget, around 3 million RMB.",
                         recorded_at=recorded_at, lang="en", accounts=accounts)[0]
    assert (task.amount, task.currency) == (Decimal(3_000_000), "CNY")


def test_prebuilt_directory_gives_the_same_tasks(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """A Directory built once can stand in for the account book, with identical results."""
    from fieldsync.voice.customers import Directory

    text = "下周二下午三点给华东电气的王总回电话，报价改成二十万"
    assert extract_tasks(text, recorded_at=recorded_at, lang="zh", accounts=Directory.build(accounts)) == \
        extract_tasks(text, recorded_at=recorded_at, lang="zh", accounts=accounts)
