"""trends: the topics and keywords of each message (computed by the desk's job), the clusters of unanswered
messages, the bursts alerted

Revision ID: 0017h
Revises: 0017a
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017h"
down_revision = "0017a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_topics",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("decision_id", sa.Integer, sa.ForeignKey("message_decisions.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
    )
    # covering: a period's topics counted from the index alone; a topic's messages of the last hour
    op.create_index("ix_message_topics_kind_at_topic", "message_topics", ["kind", "at", "topic"])
    op.create_index("ix_message_topics_topic_at", "message_topics", ["topic", "at"])
    op.create_index("ix_message_topics_decision_id", "message_topics", ["decision_id"])
    op.create_table(
        "topic_clusters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("centroid", sa.JSON, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    progress = op.create_table(
        "trend_progress",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    # the rows the topic job and the burst check lock (several desk workers on PostgreSQL: one at a time)
    op.bulk_insert(progress, [{"name": "topics", "value": 0}, {"name": "bursts", "value": 0}])
    op.create_table(
        "bursts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_signal_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("peak_last_hour", sa.Integer, nullable=False),
        sa.Column("expected_last_hour", sa.Float, nullable=False),
    )
    op.create_index("ix_bursts_state_topic", "bursts", ["state", "topic"])


def downgrade() -> None:
    op.drop_index("ix_bursts_state_topic", table_name="bursts")
    op.drop_table("bursts")
    op.drop_table("trend_progress")
    op.drop_table("topic_clusters")
    for name in ("ix_message_topics_decision_id", "ix_message_topics_topic_at", "ix_message_topics_kind_at_topic"):
        op.drop_index(name, table_name="message_topics")
    op.drop_table("message_topics")
