"""transcripts: manual redactions and un-redactions, retention log

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

APPEND_ONLY = ("transcript_redactions", "transcript_retention_runs")


def upgrade() -> None:
    op.create_table(
        "transcript_redactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("transcript_records.id"), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("text_length", sa.Integer(), nullable=True),
        sa.Column("finding_kind", sa.String(length=30), nullable=True),
        sa.Column("original_start", sa.Integer(), nullable=True),
        sa.Column("original_end", sa.Integer(), nullable=True),
    )
    op.create_index("ix_transcript_redactions_record_id", "transcript_redactions", ["record_id"])
    op.create_index("ix_transcript_redactions_conversation_id", "transcript_redactions", ["conversation_id"])
    op.create_table(
        "transcript_retention_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("originals_removed", sa.Integer(), nullable=False),
        sa.Column("first_record_id", sa.Integer(), nullable=True),
        sa.Column("last_record_id", sa.Integer(), nullable=True),
        sa.Column("cases_cleared", sa.Integer(), nullable=False),
        sa.Column("first_case_id", sa.String(length=40), nullable=True),
        sa.Column("last_case_id", sa.String(length=40), nullable=True),
    )
    # Logs are evidence: like the transcript itself, the database refuses to change or delete a row.
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        refusal = f"{table} is append-only"
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END")
        elif dialect == "postgresql":
            op.execute(f"CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                       f"$$ BEGIN RAISE EXCEPTION '{refusal}'; END $$")
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse()")


def downgrade() -> None:
    for table in reversed(APPEND_ONLY):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")
        op.drop_table(table)
