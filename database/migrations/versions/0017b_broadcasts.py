"""broadcasts: emergency alerts (two people's approval, CAP 1.2) and citizens' subscriptions

Revision ID: 0017b
Revises: 0017d
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017b"
down_revision = "0017d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcast_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("identifier", sa.String(200), nullable=False, unique=True),
        sa.Column("msg_type", sa.String(10), nullable=False),
        sa.Column("references_id", sa.Integer, sa.ForeignKey("broadcast_alerts.id"), index=True),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("event", sa.String(200), nullable=False),
        sa.Column("headline", sa.String(300), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("instruction", sa.Text, nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("certainty", sa.String(20), nullable=False),
        sa.Column("area", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("exercise", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(12), nullable=False, index=True),
        sa.Column("drafted_by", sa.String(100), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(100)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("released_at", sa.DateTime(timezone=True), index=True),
        sa.Column("cancelled_by", sa.String(100)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "broadcast_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(30), nullable=False, index=True),
        sa.Column("address", sa.String(200), nullable=False, index=True),
        sa.Column("topic", sa.String(60), nullable=False),
        sa.Column("area", sa.String(200), nullable=False),
        sa.Column("test", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), index=True),
        sa.Column("removed_reason", sa.String(300)),
        sa.UniqueConstraint("channel", "address", "topic", "area"),
    )


def downgrade() -> None:
    op.drop_table("broadcast_subscriptions")
    op.drop_table("broadcast_alerts")
