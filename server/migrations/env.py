"""Alembic environment: runs on the connection ``upgrade()`` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from fieldsync.server.store.tables import build_metadata
from fieldsync.sync.crm import CRM_SCHEMA

config = context.config
target_metadata = build_metadata(CRM_SCHEMA)[0]


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
