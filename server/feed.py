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
device; the default lets a device see everything but its own changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fieldsync.server.store.base import ChangeStore, LogEntry
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.schema import Schema


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

    def sees_entry(self, e: LogEntry) -> bool:
        if e.site == self.site:
            return False
        if self.row_filter is not None and not self.row_filter(e.table, e.owner_id, e.department_id):
            return False
        if self.known_fields:
            fname = json.loads(e.body)["f"]
            if fname != "_cl" and fname not in self.known_fields[e.table]:
                return False
        return True

    def shape_state(self, table: str, state_json: str) -> str | None:
        if self.state_filter is not None:
            return self.state_filter(table, state_json)
        if self.known_fields:
            obj = json.loads(state_json)
            obj["c"] = {k: v for k, v in obj["c"].items() if k in self.known_fields[table]}
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return state_json


def visibility_for(schema: Schema, site: str, client_schema: int) -> Visibility:
    """The default visibility for a device on ``client_schema``."""
    known: dict[str, frozenset[str]] = {}
    if client_schema < schema.version:
        known = {t.name: frozenset(f.name for f in schema.fields_for(t, client_schema)) for t in schema.tables}
    return Visibility(site, client_schema, known_fields=known)


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
    return page_from_entries(entries, cursor.seq, view, done=len(entries) < page_rows)


def page_from_entries(entries: Sequence[LogEntry], after: int, view: Visibility, *, done: bool) -> PageSet:
    """A catch-up page set from log entries (already read)."""
    bodies = [e.body for e in entries if view.sees_entry(e)]
    last = entries[-1].seq if entries else after
    frames = []
    checksum = P.PageChecksum()
    if bodies:
        frames.append(P.changes_frame(changes=bodies))
        checksum.add(P.page_payload(changes=bodies), len(bodies))
    new = Cursor(last)
    frames.append(_checkpoint(new, checksum, done))
    return PageSet(frames, new, done)


def _snapshot_page(store: ChangeStore, schema: Schema, cursor: Cursor, view: Visibility, page_rows: int) -> PageSet:
    tables = schema.tables
    index, after_id = cursor.table_index, cursor.after_id
    while index < len(tables):
        name = tables[index].name
        rows = store.snapshot_page(name, after_id, page_rows)
        if rows:
            states = [s for s in (view.shape_state(name, state) for _, state in rows) if s is not None]
            next_cursor = Cursor(cursor.seq, True, index, rows[-1][0])
            if len(rows) < page_rows:
                next_cursor = Cursor(cursor.seq, True, index + 1, "")
            checksum = P.PageChecksum()
            frames = []
            if states:
                frames.append(P.changes_frame(rows=states))
                checksum.add(P.page_payload(rows=states), len(states))
            frames.append(_checkpoint(next_cursor, checksum, False))
            return PageSet(frames, next_cursor, False)
        index, after_id = index + 1, ""
    done_cursor = Cursor(cursor.seq)
    return PageSet([_checkpoint(done_cursor, P.PageChecksum(), False)], done_cursor, False)


def _checkpoint(cursor: Cursor, checksum: P.PageChecksum, done: bool) -> str:
    return json.dumps(P.checkpoint(cursor=cursor.encode(), checksum=checksum.hexdigest(), count=checksum.count, done=done))


__all__ = ["Cursor", "PageSet", "Visibility", "next_page_set", "page_from_entries", "parse_cursor", "visibility_for"]
