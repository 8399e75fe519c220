"""What a device lacks: snapshot and catch-up page sets, and their cursors.

Theory of operation
-------------------
A cursor is one of:

* ``s:<S0>:<table index>:<last id>`` — inside a snapshot that started when the
  log head was ``S0``: tables are streamed in declaration order, rows by id;
* ``c:<seq>`` — the device has applied every change up to ``seq``.

``next_page_set`` reads one page (at most ``page_rows`` items) after a cursor
and returns the frames to send -- the ``changes`` page and the ``checkpoint``
closing it -- and the new cursor. A snapshot ends with a checkpoint at
``c:S0`` and continues as a catch-up from ``S0``: changes committed while the
snapshot streamed arrive again, which merging makes harmless. Rows are read
whole (``_state``), tombstones included, so a device learns of deletes it
must respect later.

``Visibility`` is the hook through which scopes filter rows and changes per
device; the default lets a device see everything but its own changes. With a
``ScopeView`` (``fieldsync.server.org.scopes``) it also keeps out rows outside
the user's read scope and strips hidden fields. A log entry that moved its row
(``moved_from``: the owner or department changed) is judged twice, before and
after: a device that loses the row gets an ``evict`` frame before the page
(and none of the row's changes in it), so the cursor never passes an eviction
the device has not received; a device that gains
it gets the row's whole current state in the page's ``rows``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fieldsync.server.org.scopes import ScopeView, strip_state
from fieldsync.server.store.base import ChangeStore, LogEntry
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.schema import Schema

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Cursor:
    """A parsed cursor (see module docstring)."""

    seq: int
    snapshot: bool = False
    table_index: int = 0
    after_id: str = ""

    def encode(self) -> str:
        if self.snapshot:
            return f"s:{self.seq}:{self.table_index}:{self.after_id}"
        return f"c:{self.seq}"


def parse_cursor(text: str | None, *, head: int, n_tables: int) -> Cursor | None:
    """Read a client's cursor; ``None`` means a fresh device (snapshot from scratch)."""
    if text is None:
        return None
    try:
        kind, _, rest = text.partition(":")
        if kind == "c":
            seq = int(rest)
            if 0 <= seq <= head:
                return Cursor(seq)
        elif kind == "s":
            seq_s, index_s, after_id = rest.split(":", 2)
            seq, index = int(seq_s), int(index_s)
            if 0 <= seq <= head and 0 <= index <= n_tables and len(after_id) <= 36:
                return Cursor(seq, True, index, after_id)
    except ValueError:
        pass
    raise E.ProtocolError(E.BAD_CURSOR, "this cursor was not issued by this server")


@dataclass(slots=True)
class Visibility:
    """Per-device filter of the feed: own changes excluded; scopes plug in here."""

    site: str
    schema_version: int
    row_filter: Callable[[str, str | None, str | None], bool] | None = None
    state_filter: Callable[[str, str], str | None] | None = None
    known_fields: dict[str, frozenset[str]] = field(default_factory=dict)
    scope: ScopeView | None = None
    text_rows: bool = False  # the device asked for row states as text (feature ``row-text``)

    @property
    def class_key(self) -> tuple[int, int, bool] | None:
        """Devices whose views share this key see the same entries (their own changes aside); None: never shared."""
        if self.row_filter is not None or self.state_filter is not None:
            return None
        return (id(self.scope), self.schema_version, self.text_rows)

    def sees_entry(self, e: LogEntry) -> bool:
        """The record is another device's (or carries the server's stamp of a row this device created), about a row
        this device may read."""
        if e.site == self.site and not e.stamp:
            return False
        if self.row_filter is not None and not self.row_filter(e.table, e.owner_id, e.department_id):
            return False
        return self.scope is None or self.scope.reads(e.table, e.row_id, e.owner_id, e.department_id)

    def entry_body(self, e: LogEntry) -> tuple[str, int] | None:
        """The part of a visible record this device may receive, and how many changes it holds.

        All of it (of its own record, a device gets only the server's stamp),
        unless the device runs an older schema (fields it does not know are
        left out) or its role hides fields; None when nothing is left.
        """
        body, count = e.stamp_body() if e.site == self.site else (e.body, e.count)
        hides = self.scope is not None and bool(self.scope.hidden)
        if not self.known_fields and not hides:
            return body, count
        known = self.known_fields.get(e.table) if self.known_fields else None
        kept = []
        for change in json.loads("[" + body + "]"):
            fname = change["f"]
            if fname != "_cl" and known is not None and fname not in known:
                continue
            if hides and self.scope is not None and self.scope.hides(e.table, fname):
                continue
            kept.append(change)
        if not kept:
            return None
        if len(kept) == count:
            return body, count
        return ",".join(_encode(c) for c in kept), len(kept)

    def reads_row(self, table: str, row_id: str, owner_id: str | None, department_id: str | None) -> bool:
        if self.row_filter is not None and not self.row_filter(table, owner_id, department_id):
            return False
        return self.scope is None or self.scope.reads(table, row_id, owner_id, department_id)

    def shape_state(self, table: str, state_json: str) -> str | None:
        if self.state_filter is not None:
            return self.state_filter(table, state_json)
        hidden = self.scope.hidden.get(table, frozenset()) if self.scope is not None else frozenset()
        if self.known_fields or hidden:
            obj = json.loads(state_json)
            if self.known_fields:
                obj["c"] = {k: v for k, v in obj["c"].items() if k in self.known_fields[table]}
            obj = strip_state(obj, hidden)
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return state_json

    def shape_current(self, table: str, state_json: str) -> str | None:
        """A row's current state if this device may read it now (else None), hidden fields stripped."""
        if self.scope is not None or self.row_filter is not None:
            cells = json.loads(state_json).get("c", {})
            owner = cells.get("owner_id", [None])[0]
            dept = cells.get("department_id", [None])[0]
            if not self.reads_row(table, json.loads(state_json).get("r", ""), owner, dept):
                return None
        return self.shape_state(table, state_json)


@dataclass(frozen=True, slots=True)
class ScopedEntries:
    """What a run of log entries means for one device: changes to send, rows gained whole, rows evicted.

    ``bodies`` are record bodies (comma-joined change texts); ``count`` is the number of changes in them.
    """

    bodies: list[str]
    gained: list[tuple[str, str]]
    evicted: list[tuple[str, str]]
    count: int = 0


def scope_entries(entries: Sequence[LogEntry], view: Visibility) -> ScopedEntries:
    """Split entries for a device: plain visible changes, rows that moved into its scope, rows that left it."""
    status: dict[tuple[str, str], bool] = {}
    kept: list[LogEntry] = []
    for e in entries:
        if e.erased:
            if view.reads_row(e.table, e.row_id, e.owner_id, e.department_id):
                status[(e.table, e.row_id)] = False
            continue
        if e.moved_from is not None and (view.scope is not None or view.row_filter is not None):
            before = view.reads_row(e.table, e.row_id, *e.moved_from)
            now = view.reads_row(e.table, e.row_id, e.owner_id, e.department_id)
            if before != now:
                status[(e.table, e.row_id)] = now
        if view.sees_entry(e):
            kept.append(e)
    evicted = [key for key, gained in status.items() if not gained]
    gone = set(evicted) | {(e.table, e.row_id) for e in entries if e.erased}
    bodies: list[str] = []
    count = 0
    for e in kept:
        if (e.table, e.row_id) in gone:
            continue
        part = view.entry_body(e)
        if part is not None:
            bodies.append(part[0])
            count += part[1]
    gained = [key for key, now in status.items() if now]
    return ScopedEntries(bodies, gained, evicted, count)


def gained_states(store: ChangeStore, view: Visibility, gained: Sequence[tuple[str, str]]) -> list[str]:
    """The current states (shaped for ``view``) of rows a device just gained and may still read."""
    by_table: dict[str, list[str]] = {}
    for table, row_id in gained:
        by_table.setdefault(table, []).append(row_id)
    out: list[str] = []
    for table, ids in by_table.items():
        for _, state in sorted(store.row_states(table, ids).items()):
            shaped = view.shape_current(table, state)
            if shaped is not None:
                out.append(shaped)
    return out


def visibility_for(
    schema: Schema, site: str, client_schema: int, scope: ScopeView | None = None, *, text_rows: bool = False
) -> Visibility:
    """The visibility for a device on ``client_schema`` (scoped when ``scope`` is given)."""
    known: dict[str, frozenset[str]] = {}
    if client_schema < schema.version:
        known = {t.name: frozenset(f.name for f in schema.fields_for(t, client_schema)) for t in schema.tables}
    return Visibility(site, client_schema, known_fields=known, scope=scope, text_rows=text_rows)


@dataclass(frozen=True, slots=True)
class PageSet:
    """One page and the checkpoint closing it."""

    frames: list[str]
    cursor: Cursor
    done: bool


def next_page_set(
    store: ChangeStore, schema: Schema, cursor: Cursor | None, view: Visibility, *, page_rows: int
) -> PageSet:
    """The next page the device needs after ``cursor``, with its checkpoint."""
    if cursor is None:
        cursor = Cursor(store.head(), True, 0, "")
    if cursor.snapshot:
        return _snapshot_page(store, schema, cursor, view, page_rows)
    entries = store.changes_after(cursor.seq, page_rows)
    return page_from_entries(entries, cursor.seq, view, done=len(entries) < page_rows, store=store)


def page_from_entries(
    entries: Sequence[LogEntry], after: int, view: Visibility, *, done: bool, store: ChangeStore | None = None
) -> PageSet:
    """A catch-up page set from log entries (already read); ``store`` supplies rows a device gains."""
    scoped = scope_entries(entries, view)
    bodies = scoped.bodies
    rows = gained_states(store, view, scoped.gained) if store is not None and scoped.gained else []
    last = entries[-1].seq if entries else after
    frames = []
    if scoped.evicted:
        # Before the checkpoint that moves the cursor past it: a cut connection repeats the page, evict included.
        frames.append(json.dumps(P.evict(scoped.evicted)))
    checksum = P.PageChecksum()
    if bodies or rows:
        frames.append(P.changes_frame(rows=rows, changes=bodies, text_rows=view.text_rows))
        checksum.add(P.page_payload(rows=rows, changes=bodies), len(rows) + scoped.count)
    new = Cursor(last)
    frames.append(_checkpoint(new, checksum, done))
    return PageSet(frames, new, done)


def _snapshot_page(store: ChangeStore, schema: Schema, cursor: Cursor, view: Visibility, page_rows: int) -> PageSet:
    tables = schema.tables
    index, after_id = cursor.table_index, cursor.after_id
    while index < len(tables):
        name = tables[index].name
        if view.scope is not None and hasattr(store, "snapshot_rows"):
            scoped_rows = store.snapshot_rows(name, after_id, page_rows)
            rows = [(r[0], r[1]) for r in scoped_rows]
            states = [
                s for s in (view.shape_state(name, st) for rid, st, owner, dept in scoped_rows if view.reads_row(name, rid, owner, dept))
                if s is not None
            ]
        else:
            rows = store.snapshot_page(name, after_id, page_rows)
            states = [s for s in (view.shape_state(name, state) for _, state in rows) if s is not None]
        if rows:
            next_cursor = Cursor(cursor.seq, True, index, rows[-1][0])
            if len(rows) < page_rows:
                next_cursor = Cursor(cursor.seq, True, index + 1, "")
            checksum = P.PageChecksum()
            frames = []
            if states:
                frames.append(P.changes_frame(rows=states, text_rows=view.text_rows))
                checksum.add(P.page_payload(rows=states), len(states))
            frames.append(_checkpoint(next_cursor, checksum, False))
            return PageSet(frames, next_cursor, False)
        index, after_id = index + 1, ""
    done_cursor = Cursor(cursor.seq)
    return PageSet([_checkpoint(done_cursor, P.PageChecksum(), False)], done_cursor, False)


def _checkpoint(cursor: Cursor, checksum: P.PageChecksum, done: bool) -> str:
    return json.dumps(P.checkpoint(cursor=cursor.encode(), checksum=checksum.hexdigest(), count=checksum.count, done=done))


__all__ = [
    "Cursor",
    "PageSet",
    "ScopedEntries",
    "Visibility",
    "gained_states",
    "next_page_set",
    "page_from_entries",
    "parse_cursor",
    "scope_entries",
    "visibility_for",
]
