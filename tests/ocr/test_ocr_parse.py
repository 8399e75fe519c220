"""The pure card parser over text-line fixtures: Chinese, English, bilingual; every field kind."""

from __future__ import annotations

import json

from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldsync.ocr import CardFields, PhoneKind, TextLine, parse_card
from fieldsync.ocr.fields import FIELD_NAMES
from fieldsync.sync.errors import INVALID_REGION, FieldSyncError

def lines(*texts: str, side: int = 0) -> list[TextLine]:
    """Text lines stacked top to bottom; the first is set large, like a name."""
    out: list[TextLine] = []
    y = 0.0
    for i, text in enumerate(texts):
        h = 60.0 if i == 0 else 28.0
        out.append(TextLine(text, (40.0, y, 40.0 + 18 * len(text), y + h), 0.97, side))
        y += h + 10
    return out


def phone_set(phones: Sequence[dict[str, str]]) -> set[tuple[str, str]]:
    return {(p["number"], p["kind"]) for p in phones}


CHINESE = lines(
    "张伟",
    "销售经理",
    "上海华东电气有限公司",
    "市场部",
    "手机:138 1234 5678",
    "电话:021-6888 1234 转 8001",
    "传真:021-68881235",
    "邮箱:zhang.wei@huadong.com.cn",
    "网址:www.huadong.com.cn",
    "地址:上海市浦东新区张江路88号",
    "科技大厦12楼1203室",
    "微信:zw_huadong88",
    "QQ:12345678",
)

ENGLISH = lines(
    "David Chen",
    "Senior Sales Manager",
    "Marketing Department",
    "Acme Widgets Co., Ltd.",
    "M: +1 415 555 0132",
    "T: (415) 555-0100  F: (415) 555-0101",
    "E: david.chen@acme.com",
    "www.acme.com",
    "Suite 400, 100 Market Street,",
    "San Francisco, CA 94105",
)


def test_chinese_card_every_field() -> None:
    """A Chinese card yields every field, phones in E.164 with their kinds, the address joined across lines."""
    card = parse_card(CHINESE)
    assert card.name == "张伟"
    assert card.title == "销售经理"
    assert card.company == "上海华东电气有限公司"
    assert card.department == "市场部"
    assert phone_set(card.to_json()["phones"]) == {
        ("+8613812345678", "mobile"),
        ("+862168881234", "office"),
        ("+862168881235", "fax"),
    }
    assert card.phones[1].extension == "8001"
    assert card.emails == ("zhang.wei@huadong.com.cn",)
    assert card.website == "www.huadong.com.cn"
    assert card.address == "上海市浦东新区张江路88号科技大厦12楼1203室"
    assert card.wechat == "zw_huadong88"
    assert card.qq == "12345678"


def test_english_card_with_us_region() -> None:
    """An English card read with region US gives +1 numbers and a comma-joined two-line address."""
    card = parse_card(ENGLISH, region="US")
    assert (card.name, card.title, card.department) == ("David Chen", "Senior Sales Manager", "Marketing Department")
    assert card.company == "Acme Widgets Co., Ltd."
    assert card.phones_of(PhoneKind.MOBILE) == ("+14155550132",)
    assert card.phones_of(PhoneKind.OFFICE) == ("+14155550100",)
    assert card.phones_of(PhoneKind.FAX) == ("+14155550101",)
    assert card.website == "www.acme.com"
    assert card.address == "Suite 400, 100 Market Street, San Francisco, CA 94105"


def test_bilingual_card_prefers_chinese_values() -> None:
    """On a bilingual card the Chinese name, title, company and address win over their English twins."""
    card = parse_card(
        lines(
            "李娜",
            "Li Na",
            "技术总监",
            "Technical Director",
            "深圳前海科技股份有限公司",
            "Shenzhen Qianhai Technology Co., Ltd.",
            "T 0755-86013388",
            "M 139 2345 6789",
            "li.na@qhtech.cn",
            "广东省深圳市南山区科苑路15号",
            "No. 15 Keyuan Road, Nanshan District, Shenzhen",
        )
    )
    assert (card.name, card.title, card.company) == ("李娜", "技术总监", "深圳前海科技股份有限公司")
    assert card.address == "广东省深圳市南山区科苑路15号"
    assert phone_set(card.to_json()["phones"]) == {("+8675586013388", "office"), ("+8613923456789", "mobile")}


def test_two_sided_card_merges_sides_without_duplicates() -> None:
    """Lines from the front and the back merge; a number printed on both sides is listed once."""
    front = lines("王芳", "客户经理", "杭州博创软件有限公司", "手机:13900001111", side=0)
    back = lines("Fang Wang", "Account Manager", "Hangzhou Bochuang Software Co., Ltd.", "M: +86 139 0000 1111", side=1)
    card = parse_card(front + back)
    assert card.name == "王芳" and card.company == "杭州博创软件有限公司"
    assert card.phones_of(PhoneKind.MOBILE) == ("+8613900001111",)


@pytest.mark.parametrize(
    ("text", "name", "title"),
    [
        ("张伟 销售经理", "张伟", "销售经理"),
        ("张伟销售经理", "张伟", "销售经理"),
        ("欧阳明华 总经理", "欧阳明华", "总经理"),
        ("李明华区域销售总监", "李明华", "区域销售总监"),
        ("David Chen | Sales Manager", "David Chen", "Sales Manager"),
        ("Yang Jie Regional Sales Director", "Yang Jie", "Regional Sales Director"),
        ("唐强」副总裁", "唐强", "副总裁"),
        ("唐强丨副总裁", "唐强", "副总裁"),
        ("Mary Ann Lee Chief Executive Officer", "Mary Ann Lee", "Chief Executive Officer"),
    ],
)
def test_name_and_title_on_one_line(text: str, name: str, title: str) -> None:
    """A line holding both a name and a title (spaced, unspaced or pipe-separated) splits in two."""
    card = parse_card(lines(text, "手机:13812345678"))
    assert (card.name, card.title) == (name, title)


def test_title_starting_with_a_surname_character_is_not_a_name() -> None:
    """``高级工程师`` starts with the surname 高 but is a title, not the name 高级; English titles stay whole too."""
    card = parse_card(lines("周杰", "高级工程师"))
    assert (card.name, card.title) == ("周杰", "高级工程师")
    for title in ("Senior Sales Manager", "Vice President Sales", "General Manager", "Key Account Manager"):
        assert parse_card(lines("David Chen", title)).title == title


def test_spaced_chinese_name_is_compacted() -> None:
    """Names typeset with letter spacing (``张 伟``) come out without the spaces."""
    assert parse_card(lines("张 伟", "经理")).name == "张伟"


@pytest.mark.parametrize(
    ("text", "number", "kind"),
    [
        ("手机：138-1234-5678", "+8613812345678", "mobile"),
        ("Mobile: +86 186 0000 1234", "+8618600001234", "mobile"),
        ("M: 13812345678", "+8613812345678", "mobile"),
        ("电话：(010) 8888 6666", "+861088886666", "office"),
        ("Tel: +86 21 6888 8888", "+862168888888", "office"),
        ("T. 0755-86013388", "+8675586013388", "office"),
        ("传真：0571-87654321", "+8657187654321", "fax"),
        ("Fax: 020-38889999", "+862038889999", "fax"),
        ("F: 010-66668888", "+861066668888", "fax"),
        ("13812345678", "+8613812345678", "mobile"),
        ("021-68881234", "+862168881234", "office"),
        ("服务热线:400-820-8820", "+864008208820", "other"),
        ("手机：１３８１２３４５６７８", "+8613812345678", "mobile"),
        ("手机:138 l234 5678", "+8613812345678", "mobile"),
    ],
)
def test_phone_kinds_and_e164(text: str, number: str, kind: str) -> None:
    """Labelled and unlabelled numbers (full-width digits and O/l confusions too) become E.164 with the right kind."""
    assert phone_set(parse_card(lines("张伟", text)).to_json()["phones"]) == {(number, kind)}


def test_several_numbers_on_one_line_keep_their_labels() -> None:
    """``Tel ... Fax ...`` on one line (even glued: ``...5540F:028...``) gives an office and a fax number."""
    for text in ("电话:(0512)73921453传真:0512-73921454", "T:(028)63985540F:028-63985541"):
        kinds = [p.kind for p in parse_card(lines("张伟", text)).phones]
        assert kinds == [PhoneKind.OFFICE, PhoneKind.FAX]


def test_default_region_applies_to_national_numbers() -> None:
    """A number without a country code is read in the default region given."""
    assert parse_card(lines("Anna Schmidt", "Tel: 030 1234567"), region="DE").phones[0].number == "+49301234567"
    assert parse_card(lines("Anna Schmidt", "Tel: (415) 555-0100"), region="us").phones[0].number == "+14155550100"


def test_invalid_region_is_a_typed_error() -> None:
    """An unknown default region is refused with FS-4007 invalid_region."""
    with pytest.raises(FieldSyncError) as info:
        parse_card(lines("张伟"), region="XX")
    assert info.value.code is INVALID_REGION


@pytest.mark.parametrize(
    ("text", "emails"),
    [
        ("邮箱：Zhang.Wei@HuaDong.com.cn", ("zhang.wei@huadong.com.cn",)),
        ("E-mail: a.b@example.com; c_d@example.org", ("a.b@example.com", "c_d@example.org")),
        ("Emailjohn.doe@acme.com", ("john.doe@acme.com",)),
        ("sales @ acme.com", ("sales@acme.com",)),
    ],
)
def test_emails(text: str, emails: tuple[str, ...]) -> None:
    """Emails are found, lower-cased, split when several, and freed from a glued label or OCR gaps."""
    assert parse_card(lines("张伟", text)).emails == emails


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("网址：www.huadong.com.cn", "www.huadong.com.cn"),
        ("Web: https://Acme.com/", "acme.com"),
        ("http://www.example.cn/products", "www.example.cn/products"),
        ("WWW.ACME.COM", "www.acme.com"),
    ],
)
def test_websites(text: str, site: str) -> None:
    """Websites lose their scheme and trailing slash and get a lower-case host."""
    card = parse_card(lines("张伟", text))
    assert card.website == site
    assert card.emails == ()


def test_email_domain_is_not_a_website() -> None:
    """The domain inside an email address is not reported as the website."""
    assert parse_card(lines("张伟", "zhang@huadong.com")).website is None


@pytest.mark.parametrize(
    ("text", "wechat", "qq"),
    [
        ("微信：zhangwei_88", "zhangwei_88", None),
        ("WeChat ID: david-chen2024", "david-chen2024", None),
        ("微信号:13812345678", "13812345678", None),
        ("QQ：12345678", None, "12345678"),
        ("QQ号: 2699 1260 66", None, "2699126066"),
        ("微信:wx_lina88   QQ:556677", "wx_lina88", "556677"),
    ],
)
def test_wechat_and_qq(text: str, wechat: str | None, qq: str | None) -> None:
    """WeChat and QQ ids are read after their labels, and a phone-number WeChat id is not taken as a phone."""
    card = parse_card(lines("张伟", text))
    assert (card.wechat, card.qq) == (wechat, qq)
    assert card.phones == ()


@pytest.mark.parametrize(
    ("texts", "address"),
    [
        (("地址：北京市朝阳区建国路88号",), "北京市朝阳区建国路88号"),
        (("北京市朝阳区建国路88号", "SOHO现代城A座1201室"), "北京市朝阳区建国路88号SOHO现代城A座1201室"),
        (("广东省深圳市南山区科技园科苑路15号",), "广东省深圳市南山区科技园科苑路15号"),
        (("Add: Room 1203, 12F, Tech Tower, 88 Zhangjiang Road,", "Pudong, Shanghai 201203, China"),
         "Room 1203, 12F, Tech Tower, 88 Zhangjiang Road, Pudong, Shanghai 201203, China"),
        (("1600 Amphitheatre Parkway, Mountain View, CA 94043",), "1600 Amphitheatre Parkway, Mountain View, CA 94043"),
    ],
)
def test_addresses(texts: tuple[str, ...], address: str) -> None:
    """Labelled and unlabelled addresses, Chinese and English, are found and their continuation lines joined."""
    assert parse_card(lines("张伟", "经理", *texts, "邮编:200120")).address == address


def test_postcode_label_is_not_a_phone() -> None:
    """A labelled postcode is neither a phone number nor part of another field."""
    card = parse_card(lines("张伟", "邮编：200120"))
    assert card.phones == () and card.address is None


def test_ocr_spacing_loss_is_mended() -> None:
    """PP-OCR's glued Latin words (``AccountManager``, ``Room1607,16F``) are split back into words."""
    card = parse_card(lines("Sima Fang", "AccountManager", "PurchasingDepartment", "Room1607,16F,SoftwarePark,590WensanRoad,"))
    assert (card.title, card.department) == ("Account Manager", "Purchasing Department")
    assert card.address == "Room 1607, 16F, Software Park, 590 Wensan Road"


def test_logo_strokes_before_company_are_dropped() -> None:
    """Stray letters read from a logo in front of a company name are removed, upper-case brands kept."""
    assert parse_card(lines("张伟", "al深圳宏达电气集团有限公司")).company == "深圳宏达电气集团有限公司"
    assert parse_card(lines("张伟", "TCL科技集团股份有限公司")).company == "TCL科技集团股份有限公司"


def test_fallback_name_is_the_tallest_short_line_with_low_confidence() -> None:
    """With no rule-matched name, the tallest short unclaimed line is taken, with a low confidence."""
    card = parse_card([TextLine("Zed Q", (0, 0, 100, 70), 0.9), TextLine("T: 021-68881234", (0, 90, 200, 110), 0.9)])
    assert card.name == "Zed Q"
    card = parse_card([TextLine("zed qux", (0, 0, 100, 70), 0.9), TextLine("T: 021-68881234", (0, 90, 200, 110), 0.9)])
    assert card.name == "zed qux" and card.confidence["name"] < 0.5


def test_confidence_reflects_engine_and_rule() -> None:
    """A labelled field scores higher than a guessed one, and scores scale with the engine's confidence."""
    sure = parse_card([TextLine("张伟", (0, 0, 80, 60), 0.99), TextLine("手机:13812345678", (0, 70, 200, 90), 0.99)])
    unsure = parse_card([TextLine("张伟", (0, 0, 80, 60), 0.6), TextLine("手机:13812345678", (0, 70, 200, 90), 0.6)])
    assert sure.confidence["phones"] > sure.confidence["name"] * 0.99
    assert unsure.confidence["phones"] < sure.confidence["phones"]
    assert set(sure.confidence) == {"name", "phones"}


def test_reading_order_follows_rows_not_input_order() -> None:
    """Lines given out of order are read in rows, so a two-line address joins in the printed order."""
    shuffled = [
        TextLine("科技大厦12楼1203室", (40, 140, 300, 168), 0.95),
        TextLine("张伟", (40, 0, 120, 60), 0.95),
        TextLine("地址:上海市浦东新区张江路88号", (40, 100, 400, 128), 0.95),
    ]
    assert parse_card(shuffled).address == "上海市浦东新区张江路88号科技大厦12楼1203室"


def test_to_json_has_exactly_the_wire_keys_and_round_trips() -> None:
    """``to_json`` gives exactly the documented keys, is JSON-serialisable, and ``from_json`` reads it back."""
    card = parse_card(CHINESE)
    data = card.to_json()
    assert list(data) == [*FIELD_NAMES, "confidence"]
    assert data["phones"][0] == {"number": "+8613812345678", "kind": "mobile"}
    assert CardFields.from_json(json.loads(json.dumps(data, ensure_ascii=False))) == CardFields.from_json(data)
    assert CardFields.from_json(data).to_json() == data


def test_values_are_immutable() -> None:
    """Card values are frozen, confidences included."""
    card = parse_card(CHINESE)
    with pytest.raises(AttributeError):
        card.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        card.confidence["name"] = 1.0  # type: ignore[index]


def test_empty_input_gives_an_empty_card() -> None:
    """No lines at all parse to a card with no fields (the scanner, not the parser, reports no text)."""
    card = parse_card([])
    assert card.is_empty and card.to_json()["confidence"] == {}


_TEXT = st.text(alphabet=st.sampled_from("张伟李娜经理公司有限部路号楼室手机电话传真:+-() 0123456789@.abcMTFxyzQ微信|"), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_TEXT, st.floats(0, 1), st.integers(0, 1), st.integers(0, 400)), max_size=12))
def test_parser_is_total_and_well_formed(raw: list[tuple[str, float, int, int]]) -> None:
    """Any text lines parse without error to E.164 phones, confidences in [0, 1] and JSON-safe values."""
    card = parse_card([TextLine(t, (0.0, float(y), 100.0, float(y) + 20), c, s) for t, c, s, y in raw])
    assert all(p.number.startswith("+") and p.number[1:].isdigit() for p in card.phones)
    assert all(0.0 <= v <= 1.0 for v in card.confidence.values())
    assert set(card.confidence) <= set(FIELD_NAMES)
    json.dumps(card.to_json())


def test_separator_bar_read_as_letter_still_splits() -> None:
    """A ``|`` separator that OCR read as ``I`` between name and title still splits the line."""
    card = parse_card(lines("Yong Guo I General Manager", "M: 13812345678"))
    assert (card.name, card.title) == ("Yong Guo", "General Manager")


def test_same_email_read_twice_is_listed_once() -> None:
    """Two readings of one value on the two sides, one character apart, give one value: the surer reading."""
    front = [TextLine("E: haiyan.zhang@tiancheng.com.cn", (0, 0, 300, 20), 0.99, 0)]
    back = [TextLine("E: halyan.zhang@tiancheng.com.cn", (0, 0, 300, 20), 0.80, 1)]
    assert parse_card(back + front).emails == ("haiyan.zhang@tiancheng.com.cn",)
    assert parse_card(lines("张伟", "li.na@acme.com", "li.ma@acme.com")).emails == ("li.na@acme.com", "li.ma@acme.com")
    two_sided = [TextLine("M: 13812345678", (0, 0, 300, 20), 0.7, 0), TextLine("M: 13812345679", (0, 0, 300, 20), 0.99, 1)]
    assert [p.number for p in parse_card(two_sided).phones] == ["+8613812345679"]
    consecutive = lines("张伟", "T: 021-68881234", side=0) + lines("Zhang Wei", "T: 021-68881234", "F: 021-68881235", side=1)
    assert [p.kind.value for p in parse_card(consecutive).phones] == ["office", "fax"]


def test_email_domain_hyphen_restored_from_website() -> None:
    """An email domain that lost its hyphen is restored from the website printed on the same card."""
    card = parse_card(lines("张伟", "邮箱:gaoqiang@huadongmachinery.cn", "网址:www.huadong-machinery.cn"))
    assert card.emails == ("gaoqiang@huadong-machinery.cn",)


def test_capital_i_in_lower_case_ids_is_an_ell() -> None:
    """In an otherwise lower-case WeChat id or email, a capital I (sans-serif twin of l) becomes l."""
    card = parse_card(lines("张伟", "微信:wx_Itang63", "E: Iina@acme.com"))
    assert card.wechat == "wx_ltang63" and card.emails == ("lina@acme.com",)
    assert parse_card(lines("张伟", "微信:WX_IBM2024")).wechat == "WX_IBM2024"


def test_address_head_goes_first_when_rows_swap() -> None:
    """If a tilted photo puts the second address line first, the province/city line is still joined first."""
    swapped = [
        TextLine("张伟", (40, 0, 120, 60), 0.95),
        TextLine("创新广场13楼1301室", (300, 100, 500, 128), 0.95),
        TextLine("浙江省杭州市滨江区张江路712号", (40, 118, 400, 146), 0.95),
    ]
    assert parse_card(swapped).address == "浙江省杭州市滨江区张江路712号创新广场13楼1301室"
    english = [
        TextLine("Hongshan District, Wuhan, Hubei, China", (300, 100, 700, 128), 0.95),
        TextLine("Room 815, 8F, Innovation Plaza, 694 Keyuan Road,", (40, 118, 600, 146), 0.95),
    ]
    assert parse_card(english).address == "Room 815, 8F, Innovation Plaza, 694 Keyuan Road, Hongshan District, Wuhan, Hubei, China"
