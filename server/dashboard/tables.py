"""SQL tables the dashboard keeps on the server only (added to the store's metadata, migrated by Alembic).

* ``visit_reviews``: a manager's mark on a suspicious check-in (``fieldsync.server.dashboard.reviews``):
  one row per visit, who marked it and when, an optional note, and the verdict and the exact stored text of
  ``visits.verdict_reasons`` the mark covers. It never syncs to devices (see ``docs/decisions.md``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text


def add_dashboard_tables(metadata: MetaData) -> None:
    """Declare the dashboard's server-side tables on ``metadata``."""
    Table(
        "visit_reviews",
        metadata,
        Column("visit_id", String(36), primary_key=True),
        Column("reviewer_id", String(36), nullable=False),
        Column("reviewed_ms", BigInteger, nullable=False),
        Column("note", Text),
        Column("verdict", String(16), nullable=False),
        Column("reasons", Text, nullable=False),
    )


__all__ = ["add_dashboard_tables"]
