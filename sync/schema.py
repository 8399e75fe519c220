"""Declaring synced tables: fields, types, merge rules, scope keys.

Every synced table is declared once, as data (``Table`` of ``Field``), and
both the server store and the SDK replica derive their SQL from that
declaration. Each field names the rule that merges concurrent writes to it
(``fieldsync.sync.rules``); each table names its delete policy.

Schema evolution: a field carries the schema version that introduced it
(``since``). Adding a nullable field bumps ``Schema.version``; devices on an
older version keep working and are simply not sent the new field, so nobody
re-downloads anything.
"""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from fieldsync.sync import errors as E


class FieldType(enum.Enum):
    """The value types a synced field can hold (JSON on the wire)."""

    TEXT = "text"
    INTEGER = "integer"
    REAL = "real"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # ISO 8601 with offset; stored normalised to UTC
    DATE = "date"  # ISO 8601 calendar date
    UUID = "uuid"  # a reference to another row
    JSON = "json"  # any JSON value (lists of phones, evidence records, ...)


class DeletePolicy(enum.Enum):
    """Who wins when a row is deleted on one device and edited on another, concurrently."""

    DELETE_WINS = "delete_wins"
    UPDATE_WINS = "update_wins"


@dataclass(frozen=True, slots=True)
class Field:
    """One synced column.

    ``rule`` names the merge rule (``lww`` by default). ``max_bytes`` bounds
    the encoded size of a value. ``server_only`` fields may be written by the
    server alone (verdicts, OCR results); devices get a typed reject.
    """

    name: str
    type: FieldType = FieldType.TEXT
    rule: str = "lww"
    max_bytes: int = 4096
    server_only: bool = False
    since: int = 1
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """One synced table: its fields, delete policy and scope keys.

    Every table has the implicit columns ``id`` (a client-generated UUID),
    ``owner_id`` and ``department_id`` (declared as ``server_wins`` fields so
    that reassignment by a manager is never undone by a device).
    """

    name: str
    fields: tuple[Field, ...]
    delete_policy: DeletePolicy = DeletePolicy.UPDATE_WINS
    doc: str = ""
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate field in {self.name}")
        for name in names:
            if not _IDENT.match(name) or name in RESERVED:
                raise ValueError(f"bad field name {self.name}.{name}")
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    def field(self, name: str) -> Field:
        """The declared field ``name``; raises ``ValidationError`` (FS-2002) if unknown."""
        try:
            return self.by_name[name]
        except KeyError:
            raise E.ValidationError(E.UNKNOWN_FIELD, f"{self.name} has no field {name!r}"[:200]) from None


@dataclass(frozen=True, slots=True)
class Schema:
    """The whole synced schema at one version."""

    version: int
    tables: tuple[Table, ...]
    by_name: dict[str, Table] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {t.name: t for t in self.tables})

    def table(self, name: object) -> Table:
        """The declared table ``name``; raises ``ValidationError`` (FS-2001) if unknown (or not a name at all)."""
        try:
            return self.by_name[name]  # type: ignore[index]  # a non-string name is a TypeError: unknown table
        except (KeyError, TypeError):
            raise E.ValidationError(E.UNKNOWN_TABLE, f"unknown table {str(name)[:64]!r}") from None

    def fields_for(self, table: Table, version: int) -> tuple[Field, ...]:
        """The fields of ``table`` a client on schema ``version`` knows."""
        return tuple(f for f in table.fields if f.since <= version)


_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: Column names every synced table has besides its declared fields.
RESERVED = frozenset({"id", "_cl", "_state", "_seq", "_owner", "_department"})
SCOPE_FIELDS = ("owner_id", "department_id")


def scope_fields() -> tuple[Field, ...]:
    """The owner and department fields every table carries (server-wins)."""
    return (
        Field("owner_id", FieldType.UUID, rule="server_wins", doc="the user who owns the row"),
        Field("department_id", FieldType.UUID, rule="server_wins", doc="the owner's department"),
    )


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid(text: object) -> bool:
    """True for a hyphenated UUID string (8-4-4-4-12 hex digits)."""
    return isinstance(text, str) and len(text) == 36 and _UUID.match(text) is not None


def text_ok(text: str) -> bool:
    """True when ``text`` is valid Unicode that UTF-8 can encode.

    JSON lets ``"\\ud800"`` through as a lone surrogate, which no UTF-8 store or
    socket accepts: such text must be refused where it enters, typed, or it
    would fail later at the database and block the device's queue.
    """
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def utf8_len(text: str) -> int:
    """Bytes of ``text`` in UTF-8, or -1 when it cannot be encoded (lone surrogates)."""
    if text.isascii():
        return len(text)
    try:
        return len(text.encode())
    except UnicodeEncodeError:
        return -1


_TEXT = FieldType.TEXT


def coerce(fld: Field, value: Any) -> Any:
    """Check ``value`` against the field's type and return its canonical form.

    ``None`` is always allowed (every synced field is nullable). Raises
    ``ValidationError`` (FS-2003 wrong type, FS-2004 too large).
    """
    if value is None:
        return None
    t = fld.type
    if t is _TEXT:  # the common case, checked first and returned early (a module global: see merge.py)
        if type(value) is not str:
            raise _wrong(fld, value)
        _check_text(fld, value)
        return value
    out: Any
    if t is FieldType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int) or not -(1 << 63) <= value < 1 << 63:
            raise _wrong(fld, value)
        out = value
    elif t is FieldType.REAL:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _wrong(fld, value)
        out = float(value)
    elif t is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise _wrong(fld, value)
        out = value
    elif t is FieldType.TIMESTAMP:
        out = _timestamp(fld, value)
    elif t is FieldType.DATE:
        if not isinstance(value, str):
            raise _wrong(fld, value)
        try:
            out = date.fromisoformat(value).isoformat()
        except ValueError:
            raise _wrong(fld, value) from None
    elif t is FieldType.UUID:
        if not is_uuid(value):
            raise _wrong(fld, value)
        out = value.lower()
    else:  # JSON
        try:
            encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            raise _wrong(fld, value) from None
        _check_text(fld, encoded)
        return value
    if isinstance(out, str) and utf8_len(out) > fld.max_bytes:
        raise E.ValidationError(E.VALUE_TOO_LARGE, f"{fld.name} exceeds {fld.max_bytes} bytes")
    return out


def _check_text(fld: Field, text: str) -> None:
    """A value's text (or JSON encoding) must be valid Unicode (FS-2003) within the field's byte limit (FS-2004)."""
    size = utf8_len(text)
    if size < 0:
        raise E.ValidationError(E.WRONG_TYPE, f"{fld.name} holds text that is not valid Unicode")
    if size > fld.max_bytes:
        raise E.ValidationError(E.VALUE_TOO_LARGE, f"{fld.name} exceeds {fld.max_bytes} bytes")


def _timestamp(fld: Field, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 40:
        raise _wrong(fld, value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _wrong(fld, value) from None
    if moment.tzinfo is None:
        raise E.ValidationError(E.WRONG_TYPE, f"{fld.name} needs a time zone offset")
    return format_timestamp(moment)


def format_timestamp(moment: datetime) -> str:
    """Canonical stored form of a timestamp: UTC, ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    text = moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    return text + "Z"


def _wrong(fld: Field, value: Any) -> E.ValidationError:
    return E.ValidationError(E.WRONG_TYPE, f"{fld.name} expects {fld.type.value}, got {type(value).__name__}")


__all__ = [
    "DeletePolicy",
    "Field",
    "FieldType",
    "Schema",
    "Table",
    "coerce",
    "format_timestamp",
    "is_uuid",
    "scope_fields",
    "text_ok",
    "utf8_len",
]
