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
