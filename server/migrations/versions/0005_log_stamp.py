"""log_stamp: a new row's owner stamp rides in its creator's log record

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:00:00

``sync_changes.stamp_chars``: how many characters at the start of ``body``
hold the server's stamp of a new row's owner and department. The stamp used
to be a record of its own (site ``server``) beside the pushing device's
record; now both are one record, and the pushing device, which skips its
own records, is sent just that leading part. Existing records have no stamp
prefix (0). The schema version devices see stays the same.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("sync_changes") as batch:
        batch.add_column(sa.Column("stamp_chars", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    """Downgrade schema. Records written since carry their stamp inside the pushing device's record: a device that
    pushed a new row before the downgrade learns its owner at its next snapshot, not from the log."""
    with op.batch_alter_table("sync_changes") as batch:
        batch.drop_column("stamp_chars")
