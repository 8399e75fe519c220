"""sync_changes holds one record per (row, writer) and push: n_changes counts its field changes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 06:30:00

A log record's ``body`` is the comma-joined wire texts of the field changes one
site made to one row in one push (a JSON array's contents), ``field`` the
single field's name or ``*`` for several. Records written before this
revision hold one change each, which is what the default says.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("sync_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("n_changes", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    """Downgrade schema (multi-change records stay as they are: a downgraded server would send them whole)."""
    with op.batch_alter_table("sync_changes", schema=None) as batch_op:
        batch_op.drop_column("n_changes")
