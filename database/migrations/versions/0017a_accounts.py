"""accounts: the city's account each message, reply, case and transcript record belongs to (NULL: the channel's
default account, as every row before this revision)

Revision ID: 0017a
Revises: 0016r
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017a"
down_revision = "0016r"
branch_labels = None
depends_on = None

TABLES = ("outbox", "inbound_messages", "cases", "transcript_records")


def upgrade() -> None:
    # op.add_column, not batch: on SQLite recreating `cases` would drop the FTS triggers of 0015s
    for table in TABLES:
        op.add_column(table, sa.Column("account", sa.String(60), nullable=True))
    op.create_index("ix_cases_account", "cases", ["account"])


def downgrade() -> None:
    op.drop_index("ix_cases_account", table_name="cases")
    for table in reversed(TABLES):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("account")
