"""Suggested tasks become rows of the CRM tasks table for the offline attachment flow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fieldsync.voice import extract_tasks, memo_to_task_rows
from fieldsync.voice.rows import TASK_ROW_FIELDS, task_row_id


def test_rows_have_the_tasks_table_fields(recorded_at: datetime, accounts: list[dict[str, Any]]) -> None:
    """Each row holds title, ISO due with offset, account, contact, amount, currency, priority, status, source."""
    tasks = extract_tasks("下周二下午三点给华东电气的王总回电话，报价改成二十万，尽快", recorded_at=recorded_at, lang="zh",
                          accounts=accounts)
    (row,) = memo_to_task_rows(tasks, memo_id="memo-42")
    assert tuple(row) == TASK_ROW_FIELDS
    assert row["due_at"] == "2026-11-24T15:00:00+08:00"
    assert (row["account_id"], row["contact_id"]) == ("acc-huadong", "con-wang")
    assert (row["amount"], row["currency"], row["priority"]) == ("200000", "CNY", "high")
    assert (row["status"], row["source"]) == ("suggested", "voice")
    assert row["source_text"].startswith("下周二") and 0 < row["confidence"] < 1


def test_row_ids_are_stable_per_memo_and_position(recorded_at: datetime) -> None:
    """The same memo id gives the same row ids; another memo or position gives others."""
    tasks = extract_tasks("Call Acme tomorrow and email Globex on Friday", recorded_at=recorded_at, lang="en")
    first = [r["id"] for r in memo_to_task_rows(tasks, memo_id="m1")]
    assert first == [r["id"] for r in memo_to_task_rows(tasks, memo_id="m1")]
    assert first == [task_row_id("m1", 0), task_row_id("m1", 1)]
    assert len(set(first)) == 2
    assert first[0] != task_row_id("m2", 0)


def test_rows_without_memo_id_get_fresh_ids_and_optional_assignee(recorded_at: datetime) -> None:
    """Without a memo id each call gives new ids; an assignee is added when given."""
    tasks = extract_tasks("Call Acme tomorrow", recorded_at=recorded_at, lang="en")
    a, b = memo_to_task_rows(tasks, assignee_id="rep-7"), memo_to_task_rows(tasks)
    assert a[0]["id"] != b[0]["id"]
    assert a[0]["assignee_id"] == "rep-7" and "assignee_id" not in b[0]
    assert a[0]["amount"] is None and a[0]["due_at"] == "2026-11-23T00:00:00+08:00"
