"""Field merge rules: how concurrent writes to one field combine.

Theory of operation
-------------------
A field's state is a ``Cell``: its current value, the HLC, site, causal
length and base of the write that produced it, and, for the rules that keep
more than one write (counter, add-wins set, text), a ``meta`` value.

Every rule is a join: applying a change is idempotent, and the result does not
depend on the order in which changes arrive, so replicas that have seen the
same set of changes hold the same cell (the property tests in
``tests/sync/test_sync_properties.py`` check this for every rule).

*Register rules* keep one write and choose the winner by one total order:

========================  =================================================
``lww``                   greater ``(hlc, site)``
``server_wins``           writes by the server site first, then ``lww``
``first_write_wins``      smaller ``(hlc, site)`` (evidence cannot be rewritten)
``max`` / ``min``         greater / smaller value, ties by ``lww``
custom (``register_rule``)  greater ``key(value)``, ties by ``lww``
========================  =================================================

A custom rule is given as a sort key, never as free code that picks a
winner: a key plus the ``(hlc, site)`` tie-break is a total order, so any
custom rule converges by construction.

When a register write loses to a write it had not seen (neither writer had
seen the other's value: ``a.hlc > b.base and b.hlc > a.base``, sites
different), the loser is reported as a ``Conflict`` for the history.

*Mergeable rules* keep every contribution, so nothing loses:
``counter`` (a PN-counter: each site publishes its own running total, the
value is the sum), ``add_wins_set`` (an observed-remove set: a removal only
removes the add-tags it had seen, so a concurrent add survives) and ``text``
(a Yjs text CRDT via pycrdt: concurrent edits of a note interleave).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Protocol

from pycrdt import Doc, Text, get_update, merge_updates

from fieldsync.sync import errors as E
from fieldsync.sync.change import Change
from fieldsync.sync.schema import Field, FieldType, coerce, text_ok

SERVER_SITE = "server"


@dataclass(slots=True)
class Cell:
    """The merged state of one field of one row.

    A value, never mutated once built; not frozen for the same measured reason
    as ``Change`` (one is built per merged field change).
    """

    value: Any
    hlc: int
    site: str
    base: int = 0
    cl: int = 1
    meta: Any = None
    text: str | None = dataclass_field(default=None, compare=False, repr=False)  # the stored text, when the change carried it


@dataclass(frozen=True, slots=True)
class Conflict:
    """A write that lost to a concurrent one: kept so nothing disappears silently.

    ``kind`` is ``value`` (lost to a concurrent value) or ``deleted`` (an update
    lost to a concurrent delete under the delete-wins policy; then the winner
    fields are ``None``).
    """

    table: str
    row_id: str
    field: str
    kind: str
    winner_value: Any
    winner_hlc: int | None
    winner_site: str | None
    loser_value: Any
    loser_hlc: int
    loser_site: str

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row_id": self.row_id,
            "field": self.field,
            "kind": self.kind,
            "winner": {"value": self.winner_value, "hlc": _s(self.winner_hlc), "site": self.winner_site},
            "loser": {"value": self.loser_value, "hlc": str(self.loser_hlc), "site": self.loser_site},
        }


def _s(hlc: int | None) -> str | None:
    return None if hlc is None else str(hlc)


class Rule(Protocol):
    """A merge rule: validates a change's payload and folds it into a cell."""

    name: str
    mergeable: bool

    def validate(self, fld: Field, value: Any) -> Any: ...

    def apply(self, cell: Cell | None, change: Change) -> tuple[Cell, Cell | None]:
        """Return the new cell and, for register rules, the losing write (or None)."""
        ...

    def explode(self, table: str, row_id: str, fname: str, cell: Cell) -> list[Change]:
        """Changes that rebuild ``cell`` from nothing (merging whole row states)."""
        ...


def concurrent(a: Cell, b: Cell) -> bool:
    """Neither write had seen the other (different sites, bases older than each other)."""
    return a.site != b.site and a.hlc > b.base and b.hlc > a.base


class RegisterRule:
    """A rule that keeps one write, chosen by a total order (``beats``)."""

    mergeable = False

    def __init__(self, name: str, beats: Callable[[Cell, Cell], bool]) -> None:
        self.name = name
        self._beats = beats

    def validate(self, fld: Field, value: Any) -> Any:
        return coerce(fld, value)

    def apply(self, cell: Cell | None, change: Change) -> tuple[Cell, Cell | None]:
        incoming = Cell(change.value, change.hlc, change.site, change.base, change.cl, None, change.cell_text)
        if cell is None:
            return incoming, None
        if cell.hlc == incoming.hlc and cell.site == incoming.site:
            return cell, None  # the same write again
        if self._beats(incoming, cell):
            return incoming, cell
        return cell, incoming

    def explode(self, table: str, row_id: str, fname: str, cell: Cell) -> list[Change]:
        return [Change(table, row_id, fname, cell.value, cell.hlc, cell.site, cell.cl, cell.base)]


def _lww(a: Cell, b: Cell) -> bool:
    return (a.hlc, a.site) > (b.hlc, b.site)


def _server_wins(a: Cell, b: Cell) -> bool:
    return (a.site == SERVER_SITE, a.hlc, a.site) > (b.site == SERVER_SITE, b.hlc, b.site)


def _first_write_wins(a: Cell, b: Cell) -> bool:
    return (a.hlc, a.site) < (b.hlc, b.site)


def _by_key(key: Callable[[Any], Any], *, descending: bool = False) -> Callable[[Cell, Cell], bool]:
    def beats(a: Cell, b: Cell) -> bool:
        # None never wins against a value; equal keys fall back to lww.
        if (a.value is None) != (b.value is None):
            return b.value is None
        if a.value is not None:
            ka, kb = key(a.value), key(b.value)
            if ka != kb:
                return bool(ka < kb) if descending else bool(ka > kb)
        return _lww(a, b)

    return beats


_WHOLE_SECOND_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _identity(value: Any) -> Any:
    # Canonical timestamps omit a zero fraction ("...:05Z" vs "...:05.250000Z"),
    # which would sort "...:05Z" after "...:05.25Z" as strings; compare them padded.
    if isinstance(value, str) and _WHOLE_SECOND_TS.match(value):
        return value[:-1] + ".000000Z"
    return value


def _top(cell: Cell | None, change: Change) -> tuple[int, str, int]:
    """The (hlc, site, cl) a mergeable cell carries: those of its newest contribution.

    Taking the maximum over every change, whether or not it altered the
    contents, keeps the stamp a join (order-independent), and taking the
    causal length from the same write keeps ``state_changes`` from raising a
    level the original writes never reached.
    """
    mine = (change.hlc, change.site, change.cl)
    return mine if cell is None else max((cell.hlc, cell.site, cell.cl), mine)


class CounterRule:
    """PN-counter: each site publishes its running total; the value is the sum.

    A change's value is the writing site's new running total (the SDK turns
    ``increment(delta)`` into that), so a resent change is harmless.
    """

    name = "counter"
    mergeable = True

    def validate(self, fld: Field, value: Any) -> Any:
        if fld.type not in (FieldType.INTEGER, FieldType.REAL):
            raise E.ValidationError(E.INVALID_OPERATION, f"{fld.name}: counter needs a numeric field")
        if value is None:
            raise E.ValidationError(E.WRONG_TYPE, f"{fld.name}: a counter change carries the site's running total")
        return coerce(fld, value)

    def apply(self, cell: Cell | None, change: Change) -> tuple[Cell, Cell | None]:
        totals: dict[str, list[Any]] = dict(cell.meta) if cell is not None else {}
        mine = totals.get(change.site)
        if mine is not None and int(mine[0]) >= change.hlc:
            assert cell is not None
            return cell, None
        totals[change.site] = [str(change.hlc), change.value]
        # Sorted by site: the stored form and a float sum must not depend on arrival order.
        totals = dict(sorted(totals.items()))
        total = sum(entry[1] for entry in totals.values())
        top = _top(cell, change)
        return Cell(total, top[0], top[1], 0, top[2], totals), None

    def explode(self, table: str, row_id: str, fname: str, cell: Cell) -> list[Change]:
        return [Change(table, row_id, fname, total, int(h), site, cell.cl) for site, (h, total) in cell.meta.items()]


def set_tag(hlc: int, site: str) -> str:
    """The add-tag of a set change: unique per write."""
    return f"{hlc}@{site}"


class AddWinsSetRule:
    """Observed-remove set: ``{"add": [elem, ...], "remove": [[elem, tag], ...]}``.

    Each added element is tagged with the write's ``hlc@site``; a removal
    names the (element, tag) pairs it observed, so an add it had not seen
    survives (add wins). Elements are strings.
    """

    name = "add_wins_set"
    mergeable = True

    def validate(self, fld: Field, value: Any) -> Any:
        if not isinstance(value, dict) or set(value) - {"add", "remove"}:
            raise E.ValidationError(E.WRONG_TYPE, f"{fld.name}: a set change is {{'add': [...], 'remove': [...]}}")
        adds = value.get("add", [])
        removes = value.get("remove", [])
        if not isinstance(adds, list) or not all(isinstance(x, str) and 0 < len(x) <= 200 and text_ok(x) for x in adds):
            raise E.ValidationError(E.WRONG_TYPE, f"{fld.name}: set elements are non-empty strings")
        if not isinstance(removes, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) and len(x) <= 200 and text_ok(x) for x in p) for p in removes
        ):
            raise E.ValidationError(E.WRONG_TYPE, f"{fld.name}: removals are [element, tag] pairs")
        if len(adds) + len(removes) > 1000:
            raise E.ValidationError(E.VALUE_TOO_LARGE, f"{fld.name}: too many set operations in one change")
        return {"add": sorted(set(adds)), "remove": [list(p) for p in sorted({(e, t) for e, t in removes})]}

    def apply(self, cell: Cell | None, change: Change) -> tuple[Cell, Cell | None]:
        meta = cell.meta if cell is not None else {"a": [], "r": []}
        tag = set_tag(change.hlc, change.site)
        adds = {(e, t) for e, t in meta["a"]} | {(e, tag) for e in change.value.get("add", [])}
        removed = {(e, t) for e, t in meta["r"]} | {(e, t) for e, t in change.value.get("remove", [])}
        new_meta = {"a": sorted([e, t] for e, t in adds), "r": sorted([e, t] for e, t in removed)}
        top = _top(cell, change)
        if cell is not None and new_meta == meta and top == (cell.hlc, cell.site, cell.cl):
            return cell, None
        value = sorted({e for e, t in adds if (e, t) not in removed})
        return Cell(value, top[0], top[1], 0, top[2], new_meta), None

    def explode(self, table: str, row_id: str, fname: str, cell: Cell) -> list[Change]:
        by_tag: dict[str, list[str]] = {}
        for element, tag in cell.meta["a"]:
            by_tag.setdefault(tag, []).append(element)
        out = []
        for tag, elements in by_tag.items():
            stamp, _, site = tag.partition("@")
            out.append(Change(table, row_id, fname, {"add": elements, "remove": []}, int(stamp), site, cell.cl))
        if cell.meta["r"]:
            removal = {"add": [], "remove": [list(p) for p in cell.meta["r"]]}
            out.append(Change(table, row_id, fname, removal, cell.hlc, cell.site, cell.cl))
        return out


def live_tags(cell: Cell | None, element: str) -> list[list[str]]:
    """The (element, tag) pairs a removal of ``element`` must name."""
    if cell is None:
        return []
    removed = {(e, t) for e, t in cell.meta["r"]}
    return [[e, t] for e, t in cell.meta["a"] if e == element and (e, t) not in removed]


def text_client_id(site: str) -> int:
    """A stable Yjs client id for a site (Yjs needs one per writer)."""
    return int.from_bytes(hashlib.sha256(site.encode()).digest()[:4], "big") & 0x7FFFFFFF


class TextRule:
    """Collaborative text via the Yjs CRDT (pycrdt): a change is a Yjs update, base64."""

    name = "text"
    mergeable = True
    ROOT = "text"

    def validate(self, fld: Field, value: Any) -> Any:
        if not isinstance(value, str):
            raise E.ValidationError(E.WRONG_TYPE, f"{fld.name}: a text change is a base64 Yjs update")
        if len(value) > 4 * fld.max_bytes:
            raise E.ValidationError(E.VALUE_TOO_LARGE, f"{fld.name}: the text update exceeds {4 * fld.max_bytes} bytes")
        try:
            update = base64.b64decode(value, validate=True)
            Doc().apply_update(update)
        except (binascii.Error, ValueError, RuntimeError) as exc:
            raise E.ValidationError(E.WRONG_TYPE, f"{fld.name}: not a valid Yjs update") from exc
        return value

    def apply(self, cell: Cell | None, change: Change) -> tuple[Cell, Cell | None]:
        # Merge the raw updates first: an edit that arrives before the edit it
        # builds on is "pending" in a Yjs document and would be lost if only the
        # document's own encoding were kept. Deletions do not move the state
        # vector, so "did anything change" compares whole encodings.
        update = base64.b64decode(change.value)
        if cell is not None:
            update = merge_updates(base64.b64decode(cell.meta), update)
        doc: Doc[Text] = Doc()
        text = doc.get(self.ROOT, type=Text)
        doc.apply_update(update)
        integrated = doc.get_update()
        if _fully_integrated(update, doc.get_state()):
            update = integrated  # the canonical encoding: equal on every replica
        state = base64.b64encode(update).decode()
        top = _top(cell, change)
        if cell is not None and state == cell.meta and top == (cell.hlc, cell.site, cell.cl):
            return cell, None
        return Cell(str(text), top[0], top[1], 0, top[2], state), None

    def explode(self, table: str, row_id: str, fname: str, cell: Cell) -> list[Change]:
        return [Change(table, row_id, fname, cell.meta, cell.hlc, cell.site, cell.cl)]


def _varuint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _fully_integrated(update: bytes, state: bytes) -> bool:
    """True when a document holding ``update`` has integrated all of it.

    ``state`` is that document's state vector. The part of ``update`` the
    state vector does not cover (Yjs ``diffUpdate``) must hold no structs, and
    its delete set may only name items the document already has.
    """
    covered: dict[int, int] = {}
    count, pos = _varuint(state, 0)
    for _ in range(count):
        client, pos = _varuint(state, pos)
        covered[client], pos = _varuint(state, pos)
    rest = get_update(update, state)
    structs, pos = _varuint(rest, 0)
    if structs:
        return False
    clients, pos = _varuint(rest, pos)
    for _ in range(clients):
        client, pos = _varuint(rest, pos)
        ranges, pos = _varuint(rest, pos)
        for _ in range(ranges):
            clock, pos = _varuint(rest, pos)
            length, pos = _varuint(rest, pos)
            if clock + length > covered.get(client, 0):
                return False
    return True


def text_edit(cell: Cell | None, site: str, new_text: str) -> str:
    """A Yjs update (base64) turning the cell's text into ``new_text``.

    The edit is the minimal splice between the old and new strings (common
    prefix and suffix kept), so concurrent edits elsewhere in the note survive.
    """
    doc: Doc[Text] = Doc(client_id=text_client_id(site))
    text = doc.get(TextRule.ROOT, type=Text)
    if cell is not None:
        doc.apply_update(base64.b64decode(cell.meta))
    old = str(text)
    before = doc.get_state()
    prefix = 0
    limit = min(len(old), len(new_text))
    while prefix < limit and old[prefix] == new_text[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new_text[len(new_text) - 1 - suffix]:
        suffix += 1
    with doc.transaction():
        if len(old) - prefix - suffix:
            del text[prefix : len(old) - suffix]
        inserted = new_text[prefix : len(new_text) - suffix]
        if inserted:
            text.insert(prefix, inserted)
    return base64.b64encode(doc.get_update(before)).decode()


RULES: dict[str, Rule] = {
    "lww": RegisterRule("lww", _lww),
    "server_wins": RegisterRule("server_wins", _server_wins),
    "first_write_wins": RegisterRule("first_write_wins", _first_write_wins),
    "max": RegisterRule("max", _by_key(_identity)),
    "min": RegisterRule("min", _by_key(_identity, descending=True)),
    "counter": CounterRule(),
    "add_wins_set": AddWinsSetRule(),
    "text": TextRule(),
}
BUILTIN_RULES = frozenset(RULES)


def register_rule(name: str, key: Callable[[Any], Any], *, descending: bool = False) -> Rule:
    """Register a custom register rule: the write with the greatest ``key(value)`` wins.

    ``key`` must be a pure, deterministic function of the value (the same on
    every replica and server); ties fall back to last-writer-wins, so the rule
    converges by construction. Register the same rule on the server and in
    every app before opening a replica.
    """
    global _RULES_VERSION
    if name in BUILTIN_RULES:
        raise ValueError(f"{name} is a built-in rule")
    rule = RegisterRule(name, _by_key(key, descending=descending))
    RULES[name] = rule
    _RULES_VERSION += 1
    return rule


_RULES_VERSION = 0


def rules_version() -> int:
    """Bumped by every ``register_rule``: lets callers cache field-to-rule lookups."""
    return _RULES_VERSION


def rule_for(fld: Field) -> Rule:
    """The rule object a field declares."""
    try:
        return RULES[fld.rule]
    except KeyError:
        raise LookupError(f"field {fld.name} uses unregistered rule {fld.rule!r}") from None


__all__ = [
    "RULES",
    "SERVER_SITE",
    "Cell",
    "Conflict",
    "Rule",
    "concurrent",
    "live_tags",
    "register_rule",
    "rule_for",
    "rules_version",
    "set_tag",
    "text_edit",
]
