"""Alembic migrations are real and match the declaration."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from fieldsync.server.migrations import upgrade
from fieldsync.server.store.sql import make_engine
from fieldsync.server.store.tables import build_metadata
from fieldsync.sync.crm import CRM_SCHEMA


def test_upgrade_empty_database_to_head_matches_declared_schema(store_url: str) -> None:
    """An empty database migrated to head has exactly the tables and columns the declaration derives."""
    engine = make_engine(store_url)
    try:
        upgrade(engine)
        metadata, _ = build_metadata(CRM_SCHEMA)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in CRM_SCHEMA.tables} <= tables
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(store_url: str) -> None:
    """Running the migrations on an up-to-date database changes nothing."""
    engine = make_engine(store_url)
    try:
        upgrade(engine)
        upgrade(engine)
    finally:
        engine.dispose()


def test_upgrade_from_0004_keeps_log_records_without_a_stamp(store_url: str) -> None:
    """A log written before revision 0005 keeps its records; they read back with no stamp prefix, and a new row's
    record written after the upgrade carries its stamp."""
    import uuid

    from fieldsync.server.store import open_store
    from fieldsync.server.store.base import Principal
    from fieldsync.sync.change import Change
    from fieldsync.sync.hlc import pack

    engine = make_engine(store_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO sync_changes (seq, tbl, row_id, field, site, hlc, body, committed_ms, n_changes) "
                "VALUES (1, 'accounts', 'r1', 'name', 'dev-a', 5, '{\"f\":\"name\"}', 1, 1)"
            )
        upgrade(engine)
    finally:
        engine.dispose()
    store = open_store(store_url, CRM_SCHEMA)
    try:
        [old] = store.changes_after(0, 10)
        assert (old.seq, old.site, old.stamp) == (1, "dev-a", 0)
        row = str(uuid.uuid4())
        who = Principal(str(uuid.uuid4()), None, "dev-a")
        store.apply_batch(who, "b1", "d1", [Change("accounts", row, "name", "Acme", pack(2_000_000, 0), "dev-a")], [], 1)
        assert store.changes_after(1, 10)[0].stamp_body()[1] == 1
    finally:
        store.close()
