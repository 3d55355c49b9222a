"""staff administration (disabled accounts, temporary passwords, admin role), the audit log, login throttling;
the inbox at scale: indexes and full-text search of cases (SQLite FTS5, PostgreSQL tsvector + GIN)

Revision ID: 0015s
Revises: 0015a
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015s"
down_revision = "0015a"
branch_labels = None
depends_on = None

# The text a case is found by: its number, the citizen's message, the channel and the conversation (the citizen's
# handle on the channel). PostgreSQL: the same expression in the index and in handoff/inbox_search.py.
PG_SEARCH_VECTOR = ("to_tsvector('simple', translate(coalesce(service_request_id, '') || ' ' || "
                    "coalesce(description, '') || ' ' || coalesce(channel, '') || ' ' || "
                    "coalesce(conversation_id, ''), '-_:./@#+', '        '))")

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE cases_fts USING fts5(service_request_id, description, channel, conversation_id, "
    "content='cases', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN "
    "INSERT INTO cases_fts(rowid, service_request_id, description, channel, conversation_id) "
    "VALUES (new.id, new.service_request_id, new.description, new.channel, new.conversation_id); END",
    "CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN "
    "INSERT INTO cases_fts(cases_fts, rowid, service_request_id, description, channel, conversation_id) "
    "VALUES ('delete', old.id, old.service_request_id, old.description, old.channel, old.conversation_id); END",
    "CREATE TRIGGER cases_fts_update AFTER UPDATE OF service_request_id, description, channel, conversation_id "
    "ON cases BEGIN "
    "INSERT INTO cases_fts(cases_fts, rowid, service_request_id, description, channel, conversation_id) "
    "VALUES ('delete', old.id, old.service_request_id, old.description, old.channel, old.conversation_id); "
    "INSERT INTO cases_fts(rowid, service_request_id, description, channel, conversation_id) "
    "VALUES (new.id, new.service_request_id, new.description, new.channel, new.conversation_id); END",
    "INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')",
]
SQLITE_FTS_DROP = ["DROP TRIGGER IF EXISTS cases_fts_update", "DROP TRIGGER IF EXISTS cases_fts_delete",
                   "DROP TRIGGER IF EXISTS cases_fts_insert", "DROP TABLE IF EXISTS cases_fts"]
CASE_INDEXES = {  # the inbox's orders and filters
    "ix_cases_status_expected": ["status", "expected_datetime", "id"],
    "ix_cases_agency_status_expected": ["agency_responsible", "status", "expected_datetime", "id"],
    "ix_cases_status_updated": ["status", "updated_datetime"],
    "ix_cases_agency_status_updated": ["agency_responsible", "status", "updated_datetime"],
    "ix_cases_assignee": ["assignee"],
    # covering the counts per filter (handoff/inbox_search.py): the grouped count reads only the index
    "ix_cases_status_counts": ["status", "state", "sla", "assignee", "expected_datetime"],
    "ix_cases_agency_status_counts": ["agency_responsible", "status", "state", "sla", "assignee", "expected_datetime"],
}


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("password_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    for column in ("at", "actor", "action", "subject"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("address", sa.String(100), nullable=False),
    )
    for column in ("at", "username", "address"):
        op.create_index(f"ix_login_failures_{column}", "login_failures", [column])
    for name, columns in CASE_INDEXES.items():
        op.create_index(name, "cases", columns)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_cases_search ON cases USING gin ({PG_SEARCH_VECTOR})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_search")
    for name in CASE_INDEXES:
        op.drop_index(name, table_name="cases")
    for column in ("at", "username", "address"):
        op.drop_index(f"ix_login_failures_{column}", table_name="login_failures")
    op.drop_table("login_failures")
    for column in ("at", "actor", "action", "subject"):
        op.drop_index(f"ix_audit_log_{column}", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("staff_users") as batch:
        for column in ("password_changed_at", "password_expires_at", "must_change_password", "disabled_at"):
            batch.drop_column(column)
