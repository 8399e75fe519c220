"""visit_reviews: managers' review marks on suspicious check-ins (server-side only, never synced)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 08:00:00

One row per visit: who marked it reviewed and when, an optional note, and the
verdict and stored ``verdict_reasons`` text the mark covers. A new table only:
no synced table changes, so the schema version devices see stays the same.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "visit_reviews",
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("reviewer_id", sa.String(length=36), nullable=False),
        sa.Column("reviewed_ms", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("visit_id"),
    )


def downgrade() -> None:
    """Downgrade schema (the review marks are dropped)."""
    op.drop_table("visit_reviews")
