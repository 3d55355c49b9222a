"""retention: Rasa's tracker events are counted in the retention log

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # in place, as in 0011: a rebuilt table would lose the append-only triggers
    with op.batch_alter_table("transcript_retention_runs", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("tracker_events_removed", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("transcript_retention_runs", recreate="never") as batch_op:
        batch_op.drop_column("tracker_events_removed")
