"""cases: the fair clock (answered, closed, paused), the draft answer waiting for review; staff: the reviewer flag

Revision ID: 0015a
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015a"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("paused_seconds", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("draft_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("draft_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("draft_entry_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("draft_event_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("reviewer", sa.Boolean(), nullable=False, server_default=sa.false()))
    # cases answered or closed before this revision: their first answer and closing, from their history
    op.execute("UPDATE cases SET answered_at = (SELECT MIN(at) FROM case_events e WHERE e.case_id = cases.id "
               "AND e.kind = 'replied')")
    op.execute("UPDATE cases SET closed_at = (SELECT MIN(at) FROM case_events e WHERE e.case_id = cases.id "
               "AND e.kind = 'closed') WHERE status = 'closed'")
    # a case waiting for the citizen: its clock stands still from the last question
    op.execute("UPDATE cases SET paused_at = (SELECT MAX(at) FROM case_events e WHERE e.case_id = cases.id "
               "AND e.kind = 'asked_details') WHERE state = 'waiting_citizen' AND status = 'open'")


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): recreating `cases` would trip the foreign keys that point at it
    with op.batch_alter_table("staff_users", recreate="never") as batch:
        batch.drop_column("reviewer")
    with op.batch_alter_table("cases", recreate="never") as batch:
        for column in ("draft_event_id", "draft_entry_id", "draft_by", "draft_text", "paused_seconds", "paused_at",
                       "closed_at", "answered_at"):
            batch.drop_column(column)
