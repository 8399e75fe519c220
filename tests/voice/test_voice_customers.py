"""Customer matching: exact names, aliases, Chinese short names, honorifics, fuzzy slips, ambiguity."""

from __future__ import annotations

from typing import Any

import pytest

from fieldsync.voice.customers import (
    CustomerMatch,
    Directory,
    choose_customer,
    chinese_short_names,
    contact_forms,
    english_short_names,
)


def _who(accounts: list[dict[str, Any]], text: str) -> CustomerMatch | None:
    mentions = Directory.build(accounts).find(text)
    return choose_customer(mentions, text, context=mentions)


def test_chinese_short_names_drop_place_legal_suffix_and_trade() -> None:
    """上海华东电气设备有限公司 is also 华东电气设备, 华东电气 and 华东."""
    assert chinese_short_names("上海华东电气设备有限公司") == ["华东电气设备", "华东电气", "华东"]
    assert "恒瑞医药" in chinese_short_names("江苏恒瑞医药股份有限公司")


def test_english_short_names_drop_legal_and_trade_words() -> None:
    """Umbrella Medical Supplies Inc. is also Umbrella; Acme Corporation is Acme."""
    assert "Umbrella" in english_short_names("Umbrella Medical Supplies Inc.")
    assert "Acme" in english_short_names("Acme Corporation")
    assert "The" not in english_short_names("The Home Depot Inc.")


def test_contact_forms_include_honorifics_and_romanised_surnames() -> None:
    """王建国 is also 王总, 老王 and Mr. Wang; David Miller is also Mr. Miller."""
    forms = {f for f, _ in contact_forms("王建国")}
    assert {"王总", "王经理", "老王", "小王", "mr. wang", "王建国"} <= {f.lower() for f in forms}
    assert "mr. miller" in {f.lower() for f, _ in contact_forms("David Miller")}


def test_chinese_short_name_and_honorific_resolve(accounts: list[dict[str, Any]]) -> None:
    """"华东电气的王总" is contact 王建国 of 上海华东电气设备有限公司."""
    match = _who(accounts, "下周二下午三点给华东电气的王总回电话")
    assert match is not None
    assert (match.account_id, match.contact_id) == ("acc-huadong", "con-wang")


def test_declared_short_name_resolves(accounts: list[dict[str, Any]]) -> None:
    """A short name given with the account (恒瑞) resolves to it."""
    match = _who(accounts, "明天去恒瑞拜访")
    assert match is not None and match.account_id == "acc-hengrui"


def test_alias_resolves(accounts: list[dict[str, Any]]) -> None:
    """An English alias of a Chinese account resolves to it."""
    match = _who(accounts, "Call Huadong Electric tomorrow")
    assert match is not None and match.account_id == "acc-huadong"


def test_english_honorific_and_romanised_chinese_contact(accounts: list[dict[str, Any]]) -> None:
    """"Mr. Wang" in an English memo finds 王建国, stored in characters."""
    match = _who(accounts, "Call Mr. Wang about the order")
    assert match is not None and match.contact_id == "con-wang"


@pytest.mark.parametrize(
    ("text", "account"),
    [("给华东电器打电话", "acc-huadong"), ("Call Acmee tomorrow", "acc-acme"), ("visit globex industries", "acc-globex")],
)
def test_fuzzy_slips_resolve(accounts: list[dict[str, Any]], text: str, account: str) -> None:
    """Recogniser slips (电器 for 电气, Acmee) and case still resolve, with a lower score than exact."""
    match = _who(accounts, text)
    assert match is not None and match.account_id == account
    assert match.score <= 1.0


def test_fuzzy_match_scores_below_exact(accounts: list[dict[str, Any]]) -> None:
    """A fuzzy match is less certain than an exact one."""
    exact, fuzzy = _who(accounts, "Call Acme"), _who(accounts, "Call Acmee")
    assert exact is not None and fuzzy is not None
    assert fuzzy.score < exact.score


def test_unrelated_words_do_not_match(accounts: list[dict[str, Any]]) -> None:
    """A memo about nobody in the book names no customer."""
    assert _who(accounts, "Call the dentist about my appointment") is None
    assert _who(accounts, "明天去机场接人") is None


def test_ambiguous_honorific_names_no_one() -> None:
    """Two accounts each with a 王总 and no account named: the memo's customer is left open."""
    book = [
        {"id": "a", "name": "杭州鑫达科技有限公司", "contacts": [{"id": "c1", "name": "王丽"}]},
        {"id": "b", "name": "苏州金桥物流有限公司", "contacts": [{"id": "c2", "name": "王强"}]},
    ]
    assert _who(book, "给王总打电话") is None
    match = _who(book, "给金桥的王总打电话")
    assert match is not None and (match.account_id, match.contact_id) == ("b", "c2")


def test_accounts_without_id_or_name_are_ignored() -> None:
    """Malformed account entries are skipped rather than crashing the memo."""
    directory = Directory.build([{"name": "No Id Ltd"}, {"id": "x"}, {"id": "y", "name": "Acme"}])
    assert [m.account_id for m in directory.find("call acme")] == ["y"]
