"""From a card to a suggested contact, and the duplicate proposals the server shows before creating one."""

from __future__ import annotations

import json

from fieldsync.ocr import CardFields, Phone, PhoneKind, card_to_contact, find_duplicates
from fieldsync.ocr.contacts import company_key

CARD = CardFields(
    name="张伟",
    title="销售经理",
    company="上海华东电气有限公司",
    department="市场部",
    phones=(Phone("+8613812345678", PhoneKind.MOBILE), Phone("+862168881234", PhoneKind.OFFICE)),
    emails=("zhang.wei@huadong.com.cn",),
    website="www.huadong.com.cn",
    address="上海市浦东新区张江路88号",
    wechat="zw_huadong88",
    qq="12345678",
    confidence={"name": 0.9},
)


def test_card_to_contact_maps_crm_columns() -> None:
    """The suggested contact carries the CRM columns, the company as account name and source 'card'."""
    row = card_to_contact(CARD)
    assert row == {
        "name": "张伟",
        "title": "销售经理",
        "phones": [{"number": "+8613812345678", "kind": "mobile"}, {"number": "+862168881234", "kind": "office"}],
        "emails": ["zhang.wei@huadong.com.cn"],
        "wechat": "zw_huadong88",
        "qq": CARD.qq,
        "account_name": "上海华东电气有限公司",
        "department": "市场部",
        "address": "上海市浦东新区张江路88号",
        "website": "www.huadong.com.cn",
        "source": "card",
    }
    json.dumps(row)


def test_same_email_is_the_strongest_reason() -> None:
    """A contact with the same email (any case) is proposed first, with score 1."""
    found = find_duplicates(CARD, [{"id": "a", "name": "Someone", "emails": ["Zhang.Wei@HUADONG.com.cn"]}])
    assert [(d.contact_id, d.score, d.reason) for d in found] == [("a", 1.0, "same_email")]


def test_same_mobile_in_any_stored_format() -> None:
    """A stored mobile in national format, E.164 or a JSON phones column matches the card's E.164 mobile."""
    contacts = [
        {"id": "national", "phones": ["138 1234 5678"]},
        {"id": "json", "phones": json.dumps([{"number": "+86 138-1234-5678", "kind": "mobile"}])},
        {"id": "office-only", "phones": [{"number": "+862168881234", "kind": "office"}]},
    ]
    found = find_duplicates(CARD, contacts)
    assert {d.contact_id for d in found} == {"national", "json"}
    assert all(d.reasons == ("same_mobile",) for d in found)


def test_chinese_name_with_company_short_name() -> None:
    """Same Chinese name at the company's short name (no city, no legal form) is a fuzzy duplicate."""
    found = find_duplicates(CARD, [{"id": "c", "name": "张 伟", "account_name": "华东电气"}])
    assert len(found) == 1 and found[0].reason == "similar_name_company" and 0.6 < found[0].score <= 0.85


def test_same_name_at_another_company_is_not_a_duplicate() -> None:
    """Two people called 张伟 at unrelated companies are different contacts."""
    assert find_duplicates(CARD, [{"id": "x", "name": "张伟", "account_name": "北京远航物流有限公司"}]) == []


def test_different_chinese_name_same_company_is_not_a_duplicate() -> None:
    """A colleague at the same company with a one-character-different name is not proposed."""
    assert find_duplicates(CARD, [{"id": "x", "name": "张玮", "account_name": "上海华东电气有限公司"}]) == []


def test_english_names_in_either_order_and_company_forms() -> None:
    """``Wei Zhang`` at ``Huadong Electric Co., Ltd.`` matches ``Zhang Wei`` at ``Shanghai Huadong Electric``."""
    card = CardFields(name="Zhang Wei", company="Shanghai Huadong Electric")
    found = find_duplicates(card, [{"id": 7, "name": "Wei Zhang", "company": "Huadong Electric Co., Ltd."}])
    assert [d.contact_id for d in found] == [7]


def test_several_reasons_and_ranking() -> None:
    """A contact matching on email and mobile lists both reasons; candidates come best first."""
    contacts = [
        {"id": "fuzzy", "name": "张伟", "account_name": "华东电气(上海)有限公司"},
        {"id": "both", "emails": ["zhang.wei@huadong.com.cn"], "phones": ["+8613812345678"]},
        {"id": "wechat", "wechat": "ZW_huadong88"},
    ]
    found = find_duplicates(CARD, contacts)
    assert [d.contact_id for d in found] == ["both", "wechat", "fuzzy"]
    assert found[0].reasons == ("same_email", "same_mobile")


def test_contacts_with_missing_columns_are_skipped_safely() -> None:
    """Contacts with empty or absent columns never match and never raise."""
    assert find_duplicates(CARD, [{}, {"id": 1, "name": None, "emails": None, "phones": "[]"}, {"id": 2, "phones": ["not a number"]}]) == []


def test_company_key_reduces_to_short_name() -> None:
    """Company keys drop places, legal forms and trade words, in Chinese and English."""
    assert company_key("上海华东电气有限公司") == "华东电气"
    assert company_key("深圳市腾讯计算机系统有限公司") == "腾讯计算机系统"
    assert company_key("Acme Widgets Co., Ltd.") == "acme widgets"
    assert company_key(None) == ""


def test_a_contact_made_from_a_card_is_found_when_the_card_is_scanned_again() -> None:
    """The row ``card_to_contact`` suggests is proposed as a duplicate of the same card scanned again: never created twice."""
    row = card_to_contact(CARD) | {"id": "c-1"}
    found = find_duplicates(CARD, [row])
    assert [d.contact_id for d in found] == ["c-1"]
    assert found[0].reasons == ("same_email", "same_mobile", "same_wechat", "similar_name_company")
    assert found[0].score == 1.0
