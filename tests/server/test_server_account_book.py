"""The caller's account book and its directory cache, on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from fieldsync.server.account_book import DirectoryCache, book_stamp, readable_book
from fieldsync.server.compaction import DAY_MS, compact
from fieldsync.server.org.audit import AuditLog
from fieldsync.server.org.devices import DeviceRegistry
from fieldsync.server.org.erasure import Eraser
from fieldsync.server.org.scopes import RowSet, ScopeView
from fieldsync.server.org.store import OrgStore
from fieldsync.server.store import open_store
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.merge import loads_state
from fieldsync.sync.writes import delete_changes
from fieldsync.voice.customers import Directory

ME, PEER = str(uuid.uuid4()), str(uuid.uuid4())
MY_DEPT, PEER_DEPT = str(uuid.uuid4()), str(uuid.uuid4())
MINE = ScopeView(ME, read={"accounts": RowSet(owners=frozenset({ME})), "contacts": RowSet(owners=frozenset({ME}))})


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    s = open_store(store_url, CRM_SCHEMA)
    yield s
    s.close()


def account(store: Any, name: str, owner: str = ME, **values: Any) -> str:
    row = str(uuid.uuid4())
    dept = MY_DEPT if owner == ME else PEER_DEPT
    store.server_write("accounts", row, {"name": name, "owner_id": owner, "department_id": dept, **values})
    return row


def contact(store: Any, name: str, account_id: str, owner: str = ME) -> str:
    row = str(uuid.uuid4())
    dept = MY_DEPT if owner == ME else PEER_DEPT
    store.server_write("contacts", row, {"name": name, "account_id": account_id, "owner_id": owner, "department_id": dept})
    return row


def delete(store: Any, table: str, row: str) -> None:
    state = loads_state(store.row_states(table, [row])[row])
    store.apply_server_changes(delete_changes(CRM_SCHEMA.table(table), state, clock=HlcClock("test-admin")))


def resolved(directory: Directory, text: str) -> set[str]:
    return {m.account_id for m in directory.find(text)}


def test_the_book_holds_readable_live_rows_without_hidden_fields(store: Any) -> None:
    """Only live accounts in the read scope (owned or on the caller's team) come back, with readable contacts and no hidden field."""
    mine = account(store, "Northwind Traders", short_name="NW")
    team = account(store, "Initech Corporation", PEER)
    peer = account(store, "Globex Industries Ltd.", PEER)
    gone = account(store, "Umbrella Corporation")
    delete(store, "accounts", gone)
    miller = contact(store, "David Miller", mine)
    contact(store, "Susan Clarke", mine, PEER)  # a peer's contact on my account: not mine to read
    contact(store, "Li Na", peer, ME)  # my contact on a peer's account: its account is not readable
    scope = ScopeView(ME, read={"accounts": RowSet(owners=frozenset({ME}), rows=frozenset({team})),
                                "contacts": RowSet(owners=frozenset({ME}))},
                      hidden={"accounts": frozenset({"short_name"})})
    book = sorted(readable_book(store, scope), key=lambda a: a["name"])
    assert book == [
        {"id": team, "name": "Initech Corporation", "contacts": []},
        {"id": mine, "name": "Northwind Traders", "contacts": [{"id": miller, "name": "David Miller", "account_id": mine}]},
    ]


def test_a_scope_too_large_for_sql_still_gives_exactly_the_readable_rows(store: Any) -> None:
    """With more team rows than the SQL narrowing takes, the rows are still filtered by the scope, exactly."""
    team = account(store, "Initech Corporation", PEER)
    account(store, "Globex Industries Ltd.", PEER)
    many = frozenset({team, *(str(uuid.uuid4()) for _ in range(6_000))})
    scope = ScopeView(ME, read={"accounts": RowSet(rows=many), "contacts": RowSet()})
    assert [a["id"] for a in readable_book(store, scope)] == [team]


def test_without_an_organisation_the_book_is_every_live_account(store: Any) -> None:
    """With no scope (an open development server) every live account is in the book."""
    rows = {account(store, "Northwind Traders"), account(store, "Globex Industries Ltd.", PEER)}
    delete(store, "accounts", account(store, "Umbrella Corporation"))
    assert {a["id"] for a in readable_book(store, None)} == rows


def test_a_directory_is_reused_until_the_book_tables_change(store: Any) -> None:
    """The same directory is served while accounts and contacts are unchanged; a write to either gives a new one."""
    northwind = account(store, "Northwind Traders")
    cache = DirectoryCache(store)
    first = cache.directory_for(MINE)
    store.server_write("tasks", str(uuid.uuid4()), {"title": "unrelated", "owner_id": ME})
    assert cache.directory_for(MINE) is first and cache.builds == 1
    globex = account(store, "Globex Industries Ltd.")
    second = cache.directory_for(MINE)
    assert second is not first and resolved(second, "call Globex") == {globex}
    contact(store, "David Miller", northwind)
    third = cache.directory_for(MINE)
    assert third is not second and resolved(third, "call David Miller") == {northwind}


def test_callers_with_the_same_scope_share_a_directory(store: Any) -> None:
    """Two users with identical read sets share one directory; a caller whose scope differs gets their own."""
    account(store, "Northwind Traders")
    cache = DirectoryCache(store)
    twin = ScopeView(PEER, read=MINE.read)
    assert cache.directory_for(MINE) is cache.directory_for(twin)
    everyone = cache.directory_for(None)
    assert everyone is not cache.directory_for(MINE) and cache.builds == 2


def test_a_reassigned_account_leaves_the_old_owners_directory(store: Any) -> None:
    """After an account moves to a peer, the cached directory of its old owner no longer resolves it."""
    northwind = account(store, "Northwind Traders")
    cache = DirectoryCache(store)
    assert resolved(cache.directory_for(MINE), "call Northwind") == {northwind}
    store.server_write("accounts", northwind, {"owner_id": PEER, "department_id": PEER_DEPT})
    assert resolved(cache.directory_for(MINE), "call Northwind") == set()


def test_an_erased_contact_stops_resolving_even_when_the_table_marker_falls_back(store: Any) -> None:
    """Erasing a contact whose later edit was the newest contact write puts max(_seq) back where it was; the directory still changes."""
    acme = account(store, "Acme Corporation")
    miller = contact(store, "David Miller", acme)
    contact(store, "Susan Clarke", acme)
    cache = DirectoryCache(store)
    assert resolved(cache.directory_for(MINE), "call David Miller") == {acme}
    before = book_stamp(store)
    store.server_write("contacts", miller, {"title": "buyer"})  # the newest contact write, then erased
    org = OrgStore(store.engine)
    Eraser(store, org, DeviceRegistry(org), AuditLog(org)).erase_rows([("contacts", miller)])
    assert book_stamp(store)[:2] == before[:2]  # the table markers alone would not notice
    assert [m.contact_id for m in cache.directory_for(MINE).find("call David Miller")] == []


def test_compacting_a_deleted_accounts_tombstone_does_not_bring_it_back(store: Any) -> None:
    """Compacting the tombstone of an account deleted after the directory was built puts max(_seq) back; the log floor still moves."""
    umbrella = account(store, "Umbrella Corporation")
    account(store, "Acme Corporation")
    cache = DirectoryCache(store)
    assert resolved(cache.directory_for(MINE), "call Umbrella") == {umbrella}
    before = book_stamp(store)
    delete(store, "accounts", umbrella)
    store.server_write("tasks", str(uuid.uuid4()), {"title": "keeps the head off the tombstone", "owner_id": ME})
    report = compact(store, horizon_days=1, conflict_retention_days=1, now_ms=store.now_ms() + 2 * DAY_MS)
    assert report.tombstones == 1
    assert book_stamp(store)[:3] == before[:3]  # markers of the tables and erasures are back where they were
    assert resolved(cache.directory_for(MINE), "call Umbrella") == set()


def test_a_directory_read_across_a_concurrent_write_is_not_kept(store: Any) -> None:
    """When the book changes while a directory is being built, that directory answers once and is not cached."""
    account(store, "Acme Corporation")
    writes = iter([lambda: account(store, "Globex Industries Ltd.")])

    def build_while_writing(accounts: Any) -> Directory:
        next(writes, lambda: None)()
        return Directory.build(accounts)

    cache = DirectoryCache(store, build=build_while_writing)
    raced = cache.directory_for(MINE)
    assert resolved(raced, "call Globex") == set()
    fresh = cache.directory_for(MINE)
    assert fresh is not raced and resolved(fresh, "call Globex") != set()
    assert cache.directory_for(MINE) is fresh and cache.builds == 2
