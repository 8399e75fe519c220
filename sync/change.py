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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fieldsync.sync import errors as E
from fieldsync.sync import hlc as H
from fieldsync.sync.schema import Schema, is_uuid

EXISTS = "_cl"
MAX_CL = 1 << 31


@dataclass(frozen=True, slots=True)
class Change:
    """One field change (or, with ``field == "_cl"``, one existence change)."""

    table: str
    row_id: str
    field: str
    value: Any
    hlc: int
    site: str
    cl: int = 1
    base: int = 0

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


def change_from_wire(obj: Any, schema: Schema, *, site: str | None = None) -> Change:
    """Validate one wire change and return its canonical ``Change``.

    ``site``: the connection's site id; when given, the change must carry it
    (a device cannot write in another device's name). Raises
    ``ValidationError`` with the precise code for the first problem found.
    """
    if not isinstance(obj, dict):
        raise E.ValidationError(E.WRONG_TYPE, "a change is a JSON object")
    table = schema.table(obj.get("t"))  # FS-2001
    row_id = obj.get("r")
    if not is_uuid(row_id) or row_id != row_id.lower():  # one spelling per row, or it would be two rows
        raise E.ValidationError(E.BAD_ROW_ID, "row id must be a canonical lower-case UUID")
    fname = obj.get("f")
    if not isinstance(fname, str):
        raise E.ValidationError(E.UNKNOWN_FIELD, "field name missing")
    change_site = obj.get("s")
    if not isinstance(change_site, str) or not 1 <= len(change_site) <= 64:
        raise E.ValidationError(E.BAD_SITE, "site id missing or too long")
    if site is not None and change_site != site:
        raise E.ValidationError(E.BAD_SITE, "change site differs from the connection's site")
    try:
        stamp = H.parse(obj.get("h"))
        base = H.parse(obj.get("b", "0"))
    except ValueError:
        raise E.ValidationError(E.BAD_HLC, "malformed hlc") from None
    if stamp == 0 or base >= stamp:
        raise E.ValidationError(E.BAD_HLC, "hlc must be positive and later than its base")
    cl = obj.get("c", 1)
    if isinstance(cl, bool) or not isinstance(cl, int) or not 1 <= cl < MAX_CL:
        raise E.ValidationError(E.INVALID_OPERATION, "causal length must be a positive integer")
    value = obj.get("v")
    if fname == EXISTS:
        try:
            seen = H.parse(value if value is not None else "0")
        except ValueError:
            raise E.ValidationError(E.BAD_HLC, "existence change carries a malformed seen watermark") from None
        if seen >= stamp:  # a writer's stamp follows all it saw; a later watermark would defeat update-wins
            raise E.ValidationError(E.BAD_HLC, "an existence change's seen watermark must be below its hlc")
        return Change(table.name, row_id, fname, str(seen), stamp, change_site, cl, base)
    fld = table.field(fname)  # FS-2002
    if cl % 2 == 0:
        raise E.ValidationError(E.ROW_DELETED, "a field change must be made while the row exists (odd causal length)")
    from fieldsync.sync.rules import rule_for  # rules import change values; avoid the cycle at import time

    value = rule_for(fld).validate(fld, value)
    return Change(table.name, row_id, fname, value, stamp, change_site, cl, base)


__all__ = ["EXISTS", "Change", "change_from_wire"]
