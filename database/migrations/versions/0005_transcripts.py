"""transcripts: append-only hash-chained records, originals kept beside them, the chain's head

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
REFUSAL = "transcript records are append-only"


def upgrade() -> None:
    op.create_table(
        "transcript_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("public_text", sa.Text(), nullable=False),
        sa.Column("original_sha256", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=200), nullable=True),
        sa.Column("entry_version", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("platform_message_id", sa.String(length=200), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False, unique=True),
    )
    op.create_index("ix_transcript_records_at", "transcript_records", ["at"])
    op.create_index("ix_transcript_records_conversation_id", "transcript_records", ["conversation_id"])
    op.create_index("ix_transcript_records_case_id", "transcript_records", ["case_id"])
    op.create_table(
        "transcript_originals",
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("transcript_records.id"), primary_key=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=True),
    )
    head = op.create_table(
        "transcript_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "last_id": 0, "last_hash": GENESIS_HASH}])
    # The database itself refuses changes to a written record; the hash chain shows any that get past this.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER transcript_records_no_{verb.lower()} BEFORE {verb} ON transcript_records "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION transcript_records_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$")
        op.execute("CREATE TRIGGER transcript_records_append_only BEFORE UPDATE OR DELETE ON transcript_records "
                   "FOR EACH ROW EXECUTE FUNCTION transcript_records_refuse()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS transcript_records_append_only ON transcript_records")
        op.execute("DROP FUNCTION IF EXISTS transcript_records_refuse()")
    op.drop_table("transcript_head")
    op.drop_table("transcript_originals")
    op.drop_table("transcript_records")
