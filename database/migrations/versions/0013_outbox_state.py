"""outbox state: queued, sending, sent, failed as one column (the outbox package owns it)

Existing rows get their state from the stamps they already have: delivered_at (sent), failed_at (failed), else
queued.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(10), nullable=False, server_default="queued"))
    op.execute("UPDATE outbox SET state = CASE WHEN delivered_at IS NOT NULL THEN 'sent' "
               "WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'queued' END")
    op.create_index("ix_outbox_state", "outbox", ["state"])


def downgrade() -> None:
    op.drop_index("ix_outbox_state", table_name="outbox")
    with op.batch_alter_table("outbox", recreate="never") as batch_op:
        batch_op.drop_column("state")
