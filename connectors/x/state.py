"""The X connector's durable values (since_id of mentions, newest DM handled, public notes posted)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker

from connectors.models import ConnectorState

CONNECTOR = "x"


class XState:
    """Keys and values in the connectors' `connector_state` table, under the connector name "x". Each account keeps
    its own (`scope`: "<account>:" before every key; the default account's keys have none, as before accounts)."""

    def __init__(self, sessions: sessionmaker, *, scope: str = "") -> None:
        self.sessions = sessions
        self.scope = scope

    def for_account(self, account: str | None) -> XState:
        """The values of one account: the default account ("x" or None) keeps the unscoped keys."""
        return XState(self.sessions, scope="" if account in (None, CONNECTOR) else f"{account}:")

    def get(self, key: str) -> str | None:
        with self.sessions() as session:
            row = session.get(ConnectorState, (CONNECTOR, self.scope + key))
            return row.value if row else None

    def set(self, key: str, value: str) -> None:
        key = self.scope + key
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
