"""SQLAlchemy tables: the synced CRM tables derived from the declaration, and the sync bookkeeping.

Each synced table gets a column per declared field (so the dashboard and the
admin tools can query real columns with indexes) plus ``id``, ``_cl`` (causal
length), ``_state`` (the merged row state as JSON text, sent verbatim in
snapshots) and ``_seq`` (the last server sequence that touched the row).

Bookkeeping tables:

* ``sync_changes``: the append-only change log. ``seq`` is assigned by the
  writer under the store's write lock, so sequence order is commit order.
  One record holds the field changes one site made to one row in one write
  (``n_changes`` of them): ``body`` is their wire texts joined by commas, the
  contents of a JSON array, so a feed page is the records' bodies joined;
  ``field`` is the field's name when there is one, else ``*``, and ``hlc``
  the highest HLC among them. One record per row rather than per field is
  what makes ingest fast: SQLite's cost is mostly per inserted row. When a
  device creates a row, the server's stamp of its owner and department rides
  in the device's record: ``stamp_chars`` leading characters of ``body`` hold
  the stamp's changes (site ``server``), and the device itself, which is not
  sent its own records, is sent just that part.
* ``sync_batches``: every (site, batch id) applied, with a digest of its
  content and the ack sent, for exactly-once pushes.
* ``sync_conflicts``: the conflict history (one row per losing write).

``sync_changes.moved_from`` is ``[owner, department]`` (JSON) on the entries of
a write that changed a row's owner or department: the feed evicts the row from
devices that lose it and sends it whole to devices that gain it. The
organisation tables (``fieldsync.server.org.tables``) and the dashboard's
server-side tables (``fieldsync.server.dashboard.tables``) share this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from fieldsync.server.dashboard.tables import add_dashboard_tables
from fieldsync.server.org.tables import add_org_tables
from fieldsync.sync.schema import FieldType, Schema
from fieldsync.sync.schema import Table as Declared

_SQL_TYPES: dict[FieldType, TypeEngine[object] | type[TypeEngine[object]]] = {
    FieldType.TEXT: Text,
    FieldType.INTEGER: BigInteger,
    FieldType.REAL: Float,
    FieldType.BOOLEAN: Boolean,
    FieldType.TIMESTAMP: String(40),
    FieldType.DATE: String(10),
    FieldType.UUID: String(36),
    FieldType.JSON: JSON(none_as_null=True),
}


def row_table(metadata: MetaData, table: Declared) -> Table:
    """Build the SQL table for one declared table."""
    columns = [
        Column("id", String(36), primary_key=True),
        Column("_cl", Integer, nullable=False),
        Column("_state", Text, nullable=False),
        Column("_seq", BigInteger, nullable=False),
    ]
    for f in table.fields:
        sql_type = JSON(none_as_null=True) if f.rule == "add_wins_set" else _SQL_TYPES[f.type]
        columns.append(Column(f.name, sql_type, nullable=True))
    indexes = [Index(f"ix_{table.name}_seq", "_seq"), Index(f"ix_{table.name}_owner", "owner_id"), Index(f"ix_{table.name}_department", "department_id")]
    if table.name == "visits":
        indexes += [Index("ix_visits_rep_planned", "rep_id", "planned_start"), Index("ix_visits_account", "account_id")]
    return Table(table.name, metadata, *columns, *indexes)


def build_metadata(schema: Schema) -> tuple[MetaData, dict[str, Table]]:
    """All server tables for ``schema``: (metadata, {synced table name: Table})."""
    metadata = MetaData()
    rows = {t.name: row_table(metadata, t) for t in schema.tables}
    Table(
        "sync_changes",
        metadata,
        Column("seq", BigInteger, primary_key=True, autoincrement=False),
        Column("tbl", String(32), nullable=False),
        Column("row_id", String(36), nullable=False),
        Column("field", String(64), nullable=False),
        Column("site", String(64), nullable=False),
        Column("hlc", BigInteger, nullable=False),
        Column("owner_id", String(36)),
        Column("department_id", String(36)),
        Column("body", Text, nullable=False),
        Column("committed_ms", BigInteger, nullable=False),
        Column("moved_from", Text),
        Column("n_changes", Integer, nullable=False, server_default="1"),
        Column("stamp_chars", Integer, nullable=False, server_default="0"),
        Index("ix_sync_changes_row", "tbl", "row_id"),
    )
    Table(
        "sync_batches",
        metadata,
        Column("site", String(64), primary_key=True),
        Column("batch_id", String(64), primary_key=True),
        Column("digest", String(64), nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("ack", Text, nullable=False),
        Column("user_id", String(36)),
        Column("committed_ms", BigInteger, nullable=False),
    )
    Table(
        "sync_conflicts",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("tbl", String(32), nullable=False),
        Column("row_id", String(36), nullable=False),
        Column("field", String(64), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("loser_hlc", BigInteger, nullable=False),
        Column("loser_site", String(64), nullable=False),
        Column("body", Text, nullable=False),
        Column("owner_id", String(36)),
        Column("department_id", String(36)),
        Column("seq", BigInteger, nullable=False),
        Column("resolved", Boolean, nullable=False, default=False),
        Column("committed_ms", BigInteger, nullable=False),
        UniqueConstraint("tbl", "row_id", "field", "loser_hlc", "loser_site", name="uq_sync_conflicts_loser"),
        Index("ix_sync_conflicts_row", "tbl", "row_id"),
    )
    add_org_tables(metadata)
    add_dashboard_tables(metadata)
    return metadata, rows


__all__ = ["build_metadata", "row_table"]
