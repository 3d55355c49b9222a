"""knowledge base: answer feedback (was this helpful?)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.String(200), nullable=False),
        sa.Column("entry_version", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(30), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("entry_id", "conversation_id", name="uq_kb_feedback_entry_conversation"),
    )
    op.create_index("ix_kb_feedback_entry_id", "kb_feedback", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_kb_feedback_entry_id", table_name="kb_feedback")
    op.drop_table("kb_feedback")
