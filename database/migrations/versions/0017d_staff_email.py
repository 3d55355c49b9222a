"""departments: a staff account's own e-mail address, for the notices that go to an officer

Revision ID: 0017d
Revises: 0017h
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017d"
down_revision = "0017h"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff_users", sa.Column("email", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("email")
