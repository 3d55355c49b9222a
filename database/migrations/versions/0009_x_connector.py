"""X/Twitter connector: durable polling state (since_id)

Nothing to add: the X connector keeps its since_id, the newest direct message handled and the public notes it
posted in the connectors' generic `connector_state` table (revision 0007), under the connector name "x"
(connectors/x/state.py). The revision stays in the chain so that later ones keep their place.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
