"""Validating changes from the wire: every FS-2xxx code a malformed change can earn."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.change import EXISTS, Change, change_from_wire
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.rules import text_edit

ROW = "0192f4c8-0000-7000-8000-0000000000aa"
H1 = "115605504000000001"
H2 = "115605504000000002"


def wire(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"t": "accounts", "r": ROW, "f": "name", "v": "Acme", "h": H2, "s": "dev-1", "c": 1, "b": H1}
    base.update(over)
    return {k: v for k, v in base.items() if v is not ...}


def code_of(obj: Any, **kw: Any) -> str:
    with pytest.raises(E.ValidationError) as info:
        change_from_wire(obj, CRM_SCHEMA, **kw)
    return info.value.code.code


def test_valid_change_round_trips_through_its_wire_form() -> None:
    """A valid wire change becomes a Change whose wire form is the same object."""
    ch = change_from_wire(wire(), CRM_SCHEMA)
    assert ch == Change("accounts", ROW, "name", "Acme", int(H2), "dev-1", 1, int(H1))
    assert ch.to_wire() == wire()
    assert change_from_wire(ch.to_wire(), CRM_SCHEMA) == ch


def test_defaults_for_causal_length_and_base() -> None:
    """``c`` defaults to 1 and ``b`` to 0 when omitted."""
    ch = change_from_wire(wire(c=..., b=...), CRM_SCHEMA)
    assert (ch.cl, ch.base) == (1, 0)


def test_values_are_canonicalised() -> None:
    """Timestamps are normalised to UTC, UUIDs lower-cased, integer reals become floats."""
    ch = change_from_wire(wire(f="last_visit_at", v="2025-11-24T10:00:00+08:00"), CRM_SCHEMA)
    assert ch.value == "2025-11-24T02:00:00Z"
    ch = change_from_wire(wire(f="owner_id", v=ROW.upper()), CRM_SCHEMA)
    assert ch.value == ROW
    ch = change_from_wire(wire(f="lat", v=31), CRM_SCHEMA)
    assert ch.value == 31.0 and isinstance(ch.value, float)


def test_none_is_allowed_for_register_fields() -> None:
    """Every plain field is nullable: ``null`` clears it."""
    assert change_from_wire(wire(v=None), CRM_SCHEMA).value is None


def test_not_an_object_is_wrong_type() -> None:
    """A change that is not a JSON object is FS-2003."""
    assert code_of(["accounts"]) == "FS-2003"


@pytest.mark.parametrize("table", ["nope", None, 5, ["accounts"]])
def test_unknown_table(table: Any) -> None:
    """A table the schema does not declare (or no table name at all) is FS-2001."""
    assert code_of(wire(t=table)) == "FS-2001"


@pytest.mark.parametrize("fname", ["nope", None, 3, "id", "_state"])
def test_unknown_field(fname: Any) -> None:
    """A field the table does not declare, or a missing field name, is FS-2002."""
    assert code_of(wire(f=fname)) == "FS-2002"


@pytest.mark.parametrize(
    ("fname", "value"),
    [
        ("name", 5),  # text
        ("name", ["Acme"]),
        ("checkin_radius_m", "100"),  # real
        ("checkin_radius_m", True),
        ("checkin_radius_m", float("nan")),
        ("checkin_radius_m", float("inf")),
        ("visit_count", 1.5),  # integer (counter)
        ("visit_count", None),  # a counter change carries a total
        ("visit_count", True),
        ("visit_count", 1 << 63),
        ("last_visit_at", "yesterday"),  # timestamp
        ("last_visit_at", "2025-11-24T10:00:00"),  # no offset
        ("last_visit_at", 1764000000),
        ("owner_id", "not-a-uuid"),  # uuid
        ("owner_id", "0192f4c80000700080000000000000aa"),  # not hyphenated
        ("opening_hours", {1, 2}),  # json
        ("opening_hours", float("nan")),
        ("tags", ["vip"]),  # add_wins_set wants {"add", "remove"}
        ("tags", {"add": [""]}),
        ("tags", {"add": ["a"], "drop": []}),
        ("tags", {"remove": [["a"]]}),
        ("notes", 42),  # text CRDT wants base64
        ("notes", "not base64!"),
        ("notes", base64.b64encode(b"\xff\xff\xff\xff").decode()),
    ],
)
def test_wrong_type_per_field_type(fname: str, value: Any) -> None:
    """A value of the wrong shape for the field's type or rule is FS-2003."""
    assert code_of(wire(f=fname, v=value)) == "FS-2003"


@pytest.mark.parametrize(
    ("table", "fname", "value"),
    [
        ("visits", "checkin_mock", "yes"),  # boolean
        ("visits", "checkin_mock", 1),
        ("opportunities", "expected_close", "2025-13-01"),  # date
        ("opportunities", "expected_close", 20251201),
        ("opportunities", "win_probability", "50"),  # integer
    ],
)
def test_wrong_type_in_other_tables(table: str, fname: str, value: Any) -> None:
    """Booleans, dates and integers are checked too (FS-2003)."""
    assert code_of(wire(t=table, f=fname, v=value)) == "FS-2003"


@pytest.mark.parametrize(
    ("fname", "value"),
    [
        ("tier", "x" * 17),  # max_bytes=16
        ("tier", "电" * 6),  # 18 bytes in UTF-8
        ("opening_hours", {"mon": "x" * 5000}),
        ("tags", {"add": [f"t{i}" for i in range(1001)]}),
        ("notes", "A" * (4 * 64 * 1024 + 4)),
    ],
)
def test_too_large(fname: str, value: Any) -> None:
    """A value over the field's byte limit (UTF-8 bytes, encoded JSON, set operations, text update) is FS-2004."""
    assert code_of(wire(f=fname, v=value)) == "FS-2004"


@pytest.mark.parametrize("row", ["42", None, ROW.upper(), ROW + "0", "{" + ROW + "}"])
def test_bad_row_id(row: Any) -> None:
    """A row id that is not a canonical lower-case hyphenated UUID is FS-2005."""
    assert code_of(wire(r=row)) == "FS-2005"


@pytest.mark.parametrize(
    "over",
    [
        {"h": "abc"},
        {"h": None},
        {"h": "-5"},
        {"h": True},
        {"h": "0", "b": ...},
        {"h": H1, "b": H2},  # base after the change
        {"h": H1, "b": H1},  # base equal to the change
        {"b": "x"},
        {"h": str(1 << 63)},
    ],
)
def test_bad_hlc(over: dict[str, Any]) -> None:
    """A malformed, zero or out-of-range HLC, or one not after its base, is FS-2006."""
    assert code_of(wire(**over)) == "FS-2006"


def test_existence_change_with_bad_watermark_is_bad_hlc() -> None:
    """An existence change whose seen watermark is not an HLC is FS-2006."""
    assert code_of(wire(f=EXISTS, v="later", c=2)) == "FS-2006"


@pytest.mark.parametrize("site", [None, "", "x" * 65, 7])
def test_bad_site(site: Any) -> None:
    """A missing, empty, overlong or non-string site id is FS-2007."""
    assert code_of(wire(s=site)) == "FS-2007"


def test_site_must_be_the_connections() -> None:
    """A change written in another device's name is FS-2007."""
    assert code_of(wire(s="dev-2"), site="dev-1") == "FS-2007"
    assert change_from_wire(wire(), CRM_SCHEMA, site="dev-1").site == "dev-1"


def test_even_causal_length_on_a_field_change_is_row_deleted() -> None:
    """A field change made while the row was deleted (even causal length) is FS-2009."""
    assert code_of(wire(c=2)) == "FS-2009"


@pytest.mark.parametrize("cl", [0, -1, True, "1", 1.0, 1 << 31])
def test_bad_causal_length_is_invalid_operation(cl: Any) -> None:
    """A causal length that is not a positive integer below 2**31 is FS-2010."""
    assert code_of(wire(c=cl)) == "FS-2010"


def test_existence_change_watermark_must_precede_its_stamp() -> None:
    """A delete claiming to have seen a stamp at or after its own HLC is FS-2006 (it would beat every update)."""
    assert code_of(wire(f=EXISTS, v=H2, c=2)) == "FS-2006"
    assert code_of(wire(f=EXISTS, v=str(1 << 62), c=2)) == "FS-2006"


def test_existence_change_carries_its_watermark() -> None:
    """A delete's ``v`` is its seen watermark, canonicalised to a decimal string; missing means 0."""
    ch = change_from_wire(wire(f=EXISTS, v=int(H1), c=2), CRM_SCHEMA)
    assert ch.is_existence and ch.value == H1 and ch.cl == 2
    assert change_from_wire(wire(f=EXISTS, v=None, c=3), CRM_SCHEMA).value == "0"


def test_text_change_accepts_a_yjs_update() -> None:
    """A base64 Yjs update is a valid text change."""
    update = text_edit(None, "dev-1", "hello")
    assert change_from_wire(wire(f="notes", v=update), CRM_SCHEMA).value == update


def test_set_change_is_canonicalised() -> None:
    """Set additions are sorted and deduplicated, removals sorted."""
    ch = change_from_wire(wire(f="tags", v={"add": ["b", "a", "b"], "remove": [["z", "1@x"], ["a", "1@x"]]}), CRM_SCHEMA)
    assert ch.value == {"add": ["a", "b"], "remove": [["a", "1@x"], ["z", "1@x"]]}


def test_every_validation_code_is_reachable() -> None:
    """Each FS-2xxx code is produced by some invalid change or write (read-only fields: see writes tests)."""
    produced = {
        code_of(wire(t="nope")),
        code_of(wire(f="nope")),
        code_of(wire(v=5)),
        code_of(wire(f="tier", v="x" * 17)),
        code_of(wire(r="42")),
        code_of(wire(h="x")),
        code_of(wire(s="")),
        code_of(wire(c=2)),
        code_of(wire(c=0)),
    }
    # Read-only fields: see the writes tests; a clock too far ahead is judged by the hub against its own clock (tests/server).
    expected = {c for c in E.CATALOGUE if c.startswith("FS-2")} - {E.READ_ONLY_FIELD.code, E.CLOCK_AHEAD.code}
    assert produced == expected


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 63), (1 << 63) - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    table=st.text(max_size=12),
    row=st.text(max_size=40),
    fname=st.text(max_size=12),
    value=_JSON_VALUES,
    stamp=st.integers(0, (1 << 63) - 1),
    site=st.text(min_size=1, max_size=64),
    cl=st.integers(0, (1 << 31) - 1),
    base=st.integers(0, (1 << 63) - 1),
)
def test_wire_text_is_the_canonical_encoding(table: str, row: str, fname: str, value: Any, stamp: int, site: str, cl: int, base: int) -> None:
    """``Change.wire_text`` is byte for byte the stdlib encoder's compact text of ``to_wire()``, for any content."""
    ch = Change(table, row, fname, value, stamp, site, cl, base)
    canonical = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode(ch.to_wire())
    assert ch.wire_text() == canonical


@pytest.mark.parametrize(
    ("fname", "value"),
    [
        ("name", "Acme \ud800 Ltd"),  # a lone surrogate: valid JSON, not encodable text
        ("opening_hours", {"mon": "\udfff"}),
        ("tags", {"add": ["vip\ud83d"]}),
        ("tags", {"remove": [["vip", "1@\ud800"]]}),
        ("notes", "\ud800"),
    ],
)
def test_unencodable_text_is_wrong_type(fname: str, value: Any) -> None:
    """Text with a lone surrogate (``"\\ud800"`` in JSON) is refused per change as FS-2003, never an internal error."""
    assert code_of(wire(f=fname, v=value)) == "FS-2003"


def test_surrogate_pairs_are_ordinary_text() -> None:
    """A properly paired surrogate escape (an emoji written as ``\\ud83d\\ude00``) decodes to valid text and is kept."""
    decoded = json.loads('"\\ud83d\\ude00 Acme"')
    assert change_from_wire(wire(v=decoded), CRM_SCHEMA).value == "😀 Acme"


def test_unencodable_site_is_bad_site() -> None:
    """A site id with a lone surrogate is FS-2007."""
    assert code_of(wire(s="dev-\ud800")) == "FS-2007"


def test_reject_does_not_echo_unencodable_ids() -> None:
    """A reject names the change's table, row and field only when they are encodable text."""
    reject = P.reject_from_error(0, E.ValidationError(E.UNKNOWN_TABLE), {"t": "acc\ud800", "r": ROW, "f": "name"})
    assert (reject.table, reject.row_id, reject.field) == (None, ROW, "name")
    json.dumps(reject.to_wire(), ensure_ascii=False).encode()


def test_missing_row_id_is_refused_on_a_fresh_start() -> None:
    """A change without a row id is FS-2005 even as the very first change a process validates."""
    import subprocess
    import sys

    code = (
        "from fieldsync.sync.change import change_from_wire\n"
        "from fieldsync.sync.crm import CRM_SCHEMA\n"
        "from fieldsync.sync import errors as E\n"
        "try:\n"
        "    change_from_wire({'t': 'accounts', 'f': 'name', 'v': 'x', 'h': '5', 's': 'd'}, CRM_SCHEMA)\n"
        "except E.ValidationError as err:\n"
        "    print(err.code.code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "FS-2005"


TEXT_FIELDS = [f.name for f in CRM_SCHEMA.table("accounts").fields if f.type.value == "text"]


@settings(max_examples=300, deadline=None)
@given(
    fname=st.sampled_from(TEXT_FIELDS),
    value=st.one_of(
        st.text(alphabet=st.characters(max_codepoint=127), max_size=40),
        st.integers(0, 4200).map(lambda n: "x" * n),
        st.text(max_size=30),
        st.just("\ud800"),
    ),
)
def test_text_values_are_judged_as_the_fields_rule_judges_them(fname: str, value: str) -> None:
    """The shortcut for plain ASCII text accepts exactly what the field's rule accepts, and every other value still
    gets the rule's verdict (FS-2003 for text that is not Unicode, FS-2004 past the byte limit)."""
    from fieldsync.sync.rules import rule_for

    fld = CRM_SCHEMA.table("accounts").field(fname)
    try:
        expected: Any = rule_for(fld).validate(fld, value)
    except E.ValidationError as err:
        expected = err.code.code
    try:
        got: Any = change_from_wire(wire(f=fname, v=value), CRM_SCHEMA).value
    except E.ValidationError as err:
        got = err.code.code
    assert got == expected
