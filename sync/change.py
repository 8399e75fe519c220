"""Field changes: the unit of replication.

A local write becomes one ``Change`` per field: ``(table, row id, field,
value, hlc, site, cl, base)``. ``cl`` is the row's causal length as the writer
saw it (odd: the row existed) and ``base`` the HLC of the value the writer
overwrote (0 if none); together they let every replica tell an overwrite
from a concurrent edit, and an update from an update that raced a delete.

Existence changes use the field name ``_cl``: ``cl`` is the new causal length
(even: deleted, odd: restored) and ``value`` the highest HLC the writer had
seen on the row (its "seen" watermark, as a decimal string).

On the wire a change is a JSON object with one-letter keys (``docs/protocol.md``)::

    {"t": "accounts", "r": "<uuid>", "f": "name", "v": "Acme", "h": "1855...", "s": "<site>", "c": 1, "b": "0"}

Every pushed change is validated here and encoded once for the log, so both
steps are written for speed (``bench/hub.py`` measures them): the checks are
inlined, and ``Change.wire_text`` builds the canonical JSON text directly --
byte for byte what the stdlib encoder gives for ``to_wire()``, a property the
tests check on random changes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from json.encoder import encode_basestring as _json_str  # the C escaper json.dumps(ensure_ascii=False) uses
from typing import Any

from fieldsync.sync import errors as E
from fieldsync.sync.schema import FieldType, Schema, text_ok

EXISTS = "_cl"
MAX_CL = 1 << 31
_MAX_HLC = 1 << 63
_ROW_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(slots=True)
class Change:
    """One field change (or, with ``field == "_cl"``, one existence change).

    A value: never mutated once built. It is not a frozen dataclass because
    every pushed change builds one and a frozen dataclass costs five times as
    much to construct (2.8 µs against 0.55 µs on the reference machine).
    """

    table: str
    row_id: str
    field: str
    value: Any
    hlc: int
    site: str
    cl: int = 1
    base: int = 0
    text: str | None = dataclass_field(default=None, compare=False, repr=False)  # memo of ``wire_text()``
    cell_text: str | None = dataclass_field(default=None, compare=False, repr=False)  # its cell's stored text (see ``wire_text``)

    @property
    def is_existence(self) -> bool:
        return self.field == EXISTS

    def to_wire(self) -> dict[str, Any]:
        """The JSON object sent for this change."""
        return {
            "t": self.table,
            "r": self.row_id,
            "f": self.field,
            "v": self.value,
            "h": str(self.hlc),
            "s": self.site,
            "c": self.cl,
            "b": str(self.base),
        }

    def wire_text(self) -> str:
        """The canonical JSON text of ``to_wire()`` (compact, UTF-8 as is), built without the dict.

        Computed once: a pushed change's text serves both the batch digest and its log record. Built
        with it, from the same pieces, is ``cell_text``: the ``[value, "hlc", site, "base", cl]`` text
        of the cell the change becomes under a register rule, which the row's stored state reuses
        (``merge.dumps_state``) instead of encoding the value, site and clocks a second time.
        """
        if self.text is not None:
            return self.text
        v = self.value
        if type(v) is str:
            vt = _json_str(v)
        elif v is None:
            vt = "null"
        else:
            vt = _ENCODE(v)
        site = quoted(self.site)
        hlc = str(self.hlc)
        base = "0" if self.base == 0 else str(self.base)
        self.cell_text = f'[{vt},"{hlc}",{site},"{base}",{self.cl}]'
        self.text = (
            f'{{"t":{quoted(self.table)},"r":{quoted_id(self.row_id)},"f":{quoted(self.field)},"v":{vt},'
            f'"h":"{hlc}","s":{site},"c":{self.cl},"b":"{base}"}}'
        )
        return self.text


_QUOTED: dict[str, str] = {}
_QUOTED_MAX = 65_536
_last_id: tuple[str, str] = ("", '""')


def quoted(name: str) -> str:
    """The JSON string literal of a name that recurs (a table, field or site), escaped once and then looked up."""
    text = _QUOTED.get(name)
    if text is None:
        if len(_QUOTED) >= _QUOTED_MAX:  # site ids are unbounded over a server's life: start afresh
            _QUOTED.clear()
        text = _QUOTED[name] = _json_str(name)
    return text


def quoted_id(row_id: str) -> str:
    """The JSON string literal of a row id; a row's changes arrive together, so the last one is remembered."""
    global _last_id
    last = _last_id  # one read: another thread may replace the pair, never tear it
    if last[0] == row_id:
        return last[1]
    text = _json_str(row_id)
    _last_id = (row_id, text)
    return text


def _hlc(text: object) -> int:
    """An HLC from its wire form, or -1 if malformed (``hlc.parse`` without the exception, inlined for speed)."""
    if type(text) is str:
        if not (text.isdigit() and text.isascii() and len(text) <= 20):
            return -1
        value = int(text)
    elif type(text) is int:
        value = text
    else:
        return -1
    return value if 0 <= value < _MAX_HLC else -1


def change_from_wire(obj: Any, schema: Schema, *, site: str | None = None) -> Change:
    """Validate one wire change and return its canonical ``Change``.

    ``site``: the connection's site id; when given, the change must carry it
    (a device cannot write in another device's name), and it may not write a
    server-only field (FS-2008). Raises ``ValidationError`` with the precise
    code for the first problem found.
    """
    global _last_row
    if not isinstance(obj, dict):
        raise E.ValidationError(E.WRONG_TYPE, "a change is a JSON object")
    tname = obj.get("t")
    table = schema.by_name.get(tname) if type(tname) is str else None
    if table is None:
        table = schema.table(tname)  # raises FS-2001
    row_id = obj.get("r")
    if row_id != _last_row:  # a row's fields arrive together: check each id once
        if type(row_id) is not str or _ROW_ID.match(row_id) is None:  # one spelling per row, or it would be two rows
            raise E.ValidationError(E.BAD_ROW_ID, "row id must be a canonical lower-case UUID")
        _last_row = row_id
    fname = obj.get("f")
    if type(fname) is not str:
        raise E.ValidationError(E.UNKNOWN_FIELD, "field name missing")
    change_site = obj.get("s")
    if change_site != site or site is None:
        if type(change_site) is not str or not 1 <= len(change_site) <= 64 or not text_ok(change_site):
            raise E.ValidationError(E.BAD_SITE, "site id missing, too long or not text")
        if site is not None:
            raise E.ValidationError(E.BAD_SITE, "change site differs from the connection's site")
    assert isinstance(change_site, str)  # the connection's site, or checked just above
    stamp = _hlc(obj.get("h"))
    base = obj.get("b", "0")
    base = 0 if base == "0" else _hlc(base)
    if stamp < 0 or base < 0:
        raise E.ValidationError(E.BAD_HLC, "malformed hlc")
    if stamp == 0 or base >= stamp:
        raise E.ValidationError(E.BAD_HLC, "hlc must be positive and later than its base")
    cl = obj.get("c", 1)
    if type(cl) is not int or not 1 <= cl < MAX_CL:
        raise E.ValidationError(E.INVALID_OPERATION, "causal length must be a positive integer")
    value = obj.get("v")
    if fname == EXISTS:
        seen = _hlc(value if value is not None else "0")
        if seen < 0:
            raise E.ValidationError(E.BAD_HLC, "existence change carries a malformed seen watermark")
        if seen >= stamp:  # a writer's stamp follows all it saw; a later watermark would defeat update-wins
            raise E.ValidationError(E.BAD_HLC, "an existence change's seen watermark must be below its hlc")
        return Change(table.name, row_id, fname, str(seen), stamp, change_site, cl, base)
    fld = table.field(fname)  # FS-2002
    if fld.server_only and site is not None:
        raise E.ValidationError(E.READ_ONLY_FIELD, f"{table.name}.{fname} is written by the server only")
    if cl % 2 == 0:
        raise E.ValidationError(E.ROW_DELETED, "a field change must be made while the row exists (odd causal length)")
    if not (type(value) is str and fld.type is _TEXT and fld.rule in _plain_rules and value.isascii() and len(value) <= fld.max_bytes):
        # (the common case above is what a plain register rule's validation accepts unchanged: ASCII text within the
        # field's byte limit; everything else is validated by the field's rule)
        value = _rules().rule_for(fld).validate(fld, value)
    return Change(table.name, row_id, fname, value, stamp, change_site, cl, base)


def _rules() -> Any:
    # rules import change values; bind the module on first use to avoid the cycle at import time
    global _rules_module, _plain_rules
    if _rules_module is None:
        from fieldsync.sync import rules

        _rules_module = rules
        _plain_rules = frozenset(
            name for name in rules.BUILTIN_RULES if type(rules.RULES[name]).validate is rules.RegisterRule.validate
        )
    return _rules_module


_rules_module: Any = None
_plain_rules: frozenset[str] = frozenset()  # built-in rules whose validation is the field type's (filled by _rules())
_TEXT = FieldType.TEXT
_last_row: Any = object()  # the last row id that passed the check (any thread's: an equal string is equally valid)


__all__ = ["EXISTS", "Change", "change_from_wire", "quoted", "quoted_id"]
