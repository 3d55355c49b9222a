"""The X connector's durable values (since_id of mentions, newest DM handled, public notes posted)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker

from connectors.models import ConnectorState

CONNECTOR = "x"


class XState:
    """Keys and values in the connectors' `connector_state` table, under the connector name "x"."""

    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def get(self, key: str) -> str | None:
        with self.sessions() as session:
            row = session.get(ConnectorState, (CONNECTOR, key))
            return row.value if row else None

    def set(self, key: str, value: str) -> None:
        with self.sessions.begin() as session:
            row = session.get(ConnectorState, (CONNECTOR, key))
            if row is None:
                session.add(ConnectorState(connector=CONNECTOR, key=key, value=value, updated_at=datetime.now(UTC)))
            else:
                row.value, row.updated_at = value, datetime.now(UTC)

    def advance(self, key: str, snowflake_id: str) -> None:
        """Set an id key to `snowflake_id` unless it already holds a newer one (X ids grow with time)."""
        current = self.get(key)
        if current is None or int(snowflake_id) > int(current):
            self.set(key, snowflake_id)
