"""cases: the Open311 filer's device_id and account_id (personal data, never returned publicly)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("account_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("account_id")
        batch_op.drop_column("device_id")
