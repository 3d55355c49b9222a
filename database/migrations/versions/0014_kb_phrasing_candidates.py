"""knowledge base: candidate phrasings learned from resolved questions, and their confirmations

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_phrasing_candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_key", sa.String(1000), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("rejections", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("entry_version", sa.Integer(), nullable=True),
        sa.UniqueConstraint("entry_id", "text_key", name="uq_kb_phrasing_candidates_entry_text"),
    )
    op.create_index("ix_kb_phrasing_candidates_entry_id", "kb_phrasing_candidates", ["entry_id"])
    op.create_index("ix_kb_phrasing_candidates_state", "kb_phrasing_candidates", ["state"])
    op.create_table(
        "kb_phrasing_confirmations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("candidate_id", sa.Integer(), sa.ForeignKey("kb_phrasing_candidates.id"), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("candidate_id", "conversation_id",
                            name="uq_kb_phrasing_confirmations_candidate_conversation"),
    )
    op.create_index("ix_kb_phrasing_confirmations_candidate_id", "kb_phrasing_confirmations", ["candidate_id"])


def downgrade() -> None:
    op.drop_index("ix_kb_phrasing_confirmations_candidate_id", table_name="kb_phrasing_confirmations")
    op.drop_table("kb_phrasing_confirmations")
    op.drop_index("ix_kb_phrasing_candidates_state", table_name="kb_phrasing_candidates")
    op.drop_index("ix_kb_phrasing_candidates_entry_id", table_name="kb_phrasing_candidates")
    op.drop_table("kb_phrasing_candidates")
