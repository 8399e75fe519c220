"""The caller's account book: the accounts (with contacts) they may read, as a memo's customer directory.

Theory of operation
-------------------
A memo's customers are resolved against the accounts its author may read --
their read scope (``fieldsync.server.org.scopes``), or every account on an open
development server with no organisation -- read from the store, never from
the request. ``readable_book(store, scope)`` selects the live rows of
``accounts`` and ``contacts`` in the scope (the scope's owners, departments
and team rows narrow the SQL; ``ScopeView.reads`` decides each row), drops
the fields the role hides, and nests each readable contact under its readable
account.

Building a ``Directory`` from a book is the expensive part (~0.25 s for 500
accounts), so ``DirectoryCache`` keeps the latest directory per *scope key*
(the read row sets and hidden fields of both tables: callers with the same
scope share an entry, and a caller whose scope changes gets a new key) under a
*stamp* of the store:

* ``max(_seq)`` of ``accounts`` and of ``contacts``: every write gives its row
  a sequence number above the log head, so any write to either table moves
  the stamp to a value it never had -- a reassignment included;
* ``max(seq)`` of ``sync_erased``: an erasure deletes rows (which could lower
  the first two), and always adds an erasure with a fresh sequence number;
* the log floor, ``min(seq)`` of ``sync_changes``: compaction deletes
  tombstones (which could lower the first two) only together with log entries
  at or below them, so the floor rises.

Every change to the rows a directory is built from therefore yields a stamp
never seen before, and an entry is served only while the stamp is the one it
was built under. The stamp is read before and after the rows; an entry is
stored only if both agree, so a directory read across a concurrent write is
used once and never cached. The stamp is one statement of four aggregates
(index lookups, but for the small erasure table), read from the database
itself, so it is right with several hub processes too.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Table, false, func, or_, select

from fieldsync.server.org.scopes import RowSet, ScopeView
from fieldsync.voice.customers import Directory

__all__ = ["BOOK_TABLES", "DirectoryCache", "book_stamp", "readable_book", "scope_key", "stamp_query"]

#: The tables a memo's customers come from.
BOOK_TABLES = ("accounts", "contacts")
_ACCOUNT_FIELDS = ("name", "short_name")
_CONTACT_FIELDS = ("name", "account_id")
_SCOPE_FIELDS = ("owner_id", "department_id")
_MAX_SQL_VALUES = 5_000  # past this many owners, departments and team rows, filter in Python only (bind-parameter limits)

Stamp = tuple[int, ...]


def scope_key(scope: ScopeView | None) -> str:
    """What decides a caller's book: the read row sets and hidden fields of the book's tables ("*": no organisation)."""
    if scope is None:
        return "*"
    empty = RowSet()
    return json.dumps(
        {t: [scope.read.get(t, empty).to_json(), sorted(scope.hidden.get(t, ()))] for t in BOOK_TABLES},
        separators=(",", ":"),
    )


def _in_scope(table: Table, rows: RowSet) -> ColumnElement[bool] | None:
    """The SQL condition equivalent to ``RowSet.contains`` (None: no narrowing)."""
    if rows.all or len(rows.owners) + len(rows.departments) + len(rows.rows) > _MAX_SQL_VALUES:
        return None
    clauses: list[ColumnElement[bool]] = []
    if rows.owners:
        clauses.append(table.c.owner_id.in_(sorted(rows.owners)))
    if rows.departments:
        clauses.append(table.c.department_id.in_(sorted(rows.departments)))
    if rows.rows:
        clauses.append(table.c.id.in_(sorted(rows.rows)))
    return or_(*clauses) if clauses else false()


def _readable(store: Any, conn: Any, name: str, fields: Iterable[str], scope: ScopeView | None) -> list[dict[str, Any]]:
    table: Table = store.rows[name]
    columns = [table.c.id, *(table.c[f] for f in (*fields, *_SCOPE_FIELDS))]
    query = select(*columns).where(table.c._cl % 2 == 1)  # live rows: an odd causal length
    if scope is not None:
        condition = _in_scope(table, scope.read.get(name, RowSet()))
        if condition is not None:
            query = query.where(condition)
    out = []
    for row in conn.execute(query.order_by(table.c.id)).mappings():
        if scope is not None and not scope.reads(name, row["id"], row["owner_id"], row["department_id"]):
            continue
        out.append({k: v for k, v in row.items() if k not in _SCOPE_FIELDS and not (scope is not None and scope.hides(name, k))})
    return out


def readable_book(store: Any, scope: ScopeView | None) -> list[dict[str, Any]]:
    """The accounts ``scope`` may read, each with its readable contacts (``scope`` None: every account)."""
    with store.engine.connect() as conn:
        accounts = _readable(store, conn, "accounts", _ACCOUNT_FIELDS, scope)
        contacts = _readable(store, conn, "contacts", _CONTACT_FIELDS, scope)
    by_id = {a["id"]: {**a, "contacts": []} for a in accounts}
    for contact in contacts:
        account = by_id.get(contact.get("account_id") or "")
        if account is not None:
            account["contacts"].append(contact)
    return list(by_id.values())


def stamp_query(store: Any) -> Any:
    """The statement reading the stamp of ``store`` (module docstring); build it once per store."""
    erased, changes = store.metadata.tables["sync_erased"], store.metadata.tables["sync_changes"]
    parts = [select(func.coalesce(func.max(store.rows[t].c._seq), 0)).scalar_subquery() for t in BOOK_TABLES]
    parts.append(select(func.coalesce(func.max(erased.c.seq), 0)).scalar_subquery())
    parts.append(select(func.coalesce(func.min(changes.c.seq), 0)).scalar_subquery())
    return select(*parts)


def book_stamp(store: Any, query: Any = None) -> Stamp:
    """A value that moves on every change to the rows of ``BOOK_TABLES`` and never comes back (module docstring)."""
    with store.engine.connect() as conn:
        return tuple(int(v) for v in conn.execute(query if query is not None else stamp_query(store)).one())


class DirectoryCache:
    """The latest customer directory per scope key, served only under the store stamp it was built at."""

    def __init__(
        self,
        store: Any,
        *,
        size: int = 32,
        build: Callable[[Iterable[Mapping[str, Any]]], Directory] = Directory.build,
    ) -> None:
        self.store = store
        self.size = size
        self._build = build
        self._stamp_query = stamp_query(store)
        self._entries: OrderedDict[str, tuple[Stamp, Directory]] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # directories built (a figure for metrics and benchmarks)

    def directory_for(self, scope: ScopeView | None) -> Directory:
        """The directory of the accounts ``scope`` may read now (blocking: reads the store)."""
        key = scope_key(scope)
        before = book_stamp(self.store, self._stamp_query)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == before:
                self._entries.move_to_end(key)
                return entry[1]
        directory = self._build(readable_book(self.store, scope))
        after = book_stamp(self.store, self._stamp_query)
        with self._lock:
            self.builds += 1
            if after == before:
                self._entries[key] = (before, directory)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return directory
