"""knowledge base entry life cycle: state, versions, feedback

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Every existing entry becomes published version 1 (editor "migration"), so that its history starts with it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_FIELDS = ("id", "question", "alt_questions", "answer", "department", "topic", "category", "url", "language")


def upgrade() -> None:
    with op.batch_alter_table("kb_entries") as batch:
        batch.add_column(sa.Column("state", sa.String(20), nullable=False, server_default="published"))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.create_index("ix_kb_entries_state", ["state"])
    op.create_table(
        "kb_entry_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.String(200), sa.ForeignKey("kb_entries.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("editor", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("entry_id", "version", name="uq_kb_entry_versions_entry_version"),
    )
    op.create_index("ix_kb_entry_versions_entry_id", "kb_entry_versions", ["entry_id"])
    entries = sa.table("kb_entries", *(sa.column(name, sa.JSON() if name == "alt_questions" else None)
                                       for name in _FIELDS), sa.column("updated_at"))
    versions = sa.table("kb_entry_versions", sa.column("entry_id"), sa.column("version"),
                        sa.column("snapshot", sa.JSON()), sa.column("state"), sa.column("editor"),
                        sa.column("note"), sa.column("created_at"))
    rows = op.get_bind().execute(sa.select(entries)).mappings().all()
    if rows:
        op.bulk_insert(versions, [
            {"entry_id": row["id"], "version": 1, "state": "published", "editor": "migration",
             "note": "entry as it was before versions were kept", "created_at": row["updated_at"],
             "snapshot": {name: row[name] for name in _FIELDS}} for row in rows])


def downgrade() -> None:
    op.drop_index("ix_kb_entry_versions_entry_id", table_name="kb_entry_versions")
    op.drop_table("kb_entry_versions")
    with op.batch_alter_table("kb_entries") as batch:
        batch.drop_index("ix_kb_entries_state")
        batch.drop_column("version")
        batch.drop_column("state")
