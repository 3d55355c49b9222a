"""reports: the indexes the report's aggregations read (messages by time, cases by request, answer and closing)

Revision ID: 0016r
Revises: 0015s
Create Date: 2026-12-06
"""

from alembic import op

revision = "0016r"
down_revision = "0015s"
branch_labels = None
depends_on = None

INDEXES = (
    # covering: the period's messages are counted from the index alone (route, channel, entry, case)
    ("ix_message_decisions_at_route", "message_decisions", ["at", "route", "channel", "entry_id", "case_id"]),
    ("ix_message_decisions_case_id", "message_decisions", ["case_id"]),
    # covering: the period's cases per department, class, category, and their clock, from the index alone
    ("ix_cases_requested_agency", "cases", ["requested_datetime", "agency_responsible", "sla", "service_code",
                                            "answered_at", "closed_at", "expected_datetime", "paused_at"]),
    ("ix_cases_answered_at", "cases", ["answered_at"]),
    ("ix_cases_closed_at", "cases", ["closed_at"]),
    ("ix_case_events_kind_at", "case_events", ["kind", "at"]),
    ("ix_kb_feedback_at", "kb_feedback", ["at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
