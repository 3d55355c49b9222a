"""retention everywhere: per-kind counts in the retention log, removal stamps on cases and decisions

The retention run log (`transcript_retention_runs`, append-only) gets one count per kind of copy it clears:
case history entries, outbox messages, message decisions and inbound messages (0 for earlier runs). Closed cases
get `personal_data_removed_at` and message decisions `text_removed_at`: their text is replaced by the
transcript's public (redacted) view, which cannot be told from a kept text, so the stamp says it was done.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

RUN_COUNTS = ("case_events_cleared", "outbox_cleared", "decisions_cleared", "inbound_cleared")
RUNS = "transcript_retention_runs"


def upgrade() -> None:
    # recreate="never": SQLite alters the tables in place (ADD COLUMN), so the append-only triggers of revision 0010
    # stay (a rebuilt table would lose them); PostgreSQL keeps them through ALTER TABLE in any case.
    with op.batch_alter_table(RUNS, recreate="never") as batch_op:
        for column in RUN_COUNTS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("cases", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("personal_data_removed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("message_decisions", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("text_removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place too (SQLite 3.35+ drops columns): a rebuild would lose the triggers, and SQLite refuses to drop the
    # old `cases` table while other tables' rows point at it.
    for table, columns in (("message_decisions", ("text_removed_at",)), ("cases", ("personal_data_removed_at",)),
                           (RUNS, tuple(reversed(RUN_COUNTS)))):
        with op.batch_alter_table(table, recreate="never") as batch_op:
            for column in columns:
                batch_op.drop_column(column)
