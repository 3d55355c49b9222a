"""Login throttling: failed logins per account and per client address within a window; a throttled login is
refused before its password is checked, until the window has passed since the failures that caused it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import ceil

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from database import Base
from database.types import UTCDateTime

ACCOUNT_FAILURES = 5  # per account within the window: the 6th attempt is refused
ADDRESS_FAILURES = 20  # per client address (many accounts tried from one place)
WINDOW = timedelta(minutes=15)


class LoginFailure(Base):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(100), index=True)  # as typed (lowercased), existing or not
    address: Mapped[str] = mapped_column(String(100), index=True)


@dataclass(frozen=True)
class Throttled:
    """Why a login is refused, and for how long."""

    reason: str  # "account" or "address"
    retry_after_s: int

    @property
    def minutes(self) -> int:
        return max(1, ceil(self.retry_after_s / 60))


class LoginThrottle:
    def __init__(self, sessions: sessionmaker, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 account_failures: int = ACCOUNT_FAILURES, address_failures: int = ADDRESS_FAILURES,
                 window: timedelta = WINDOW) -> None:
        self._sessions = sessions
        self.clock = clock
        self.account_failures, self.address_failures, self.window = account_failures, address_failures, window

    def check(self, username: str, address: str) -> Throttled | None:
        """None if the login may be tried; else how long until it may (the window after the failure that tipped
        the count over, so refused attempts do not prolong it)."""
        now = self.clock()
        since = now - self.window
        with self._sessions() as session:
            for reason, column, value, limit in (("account", LoginFailure.username, _key(username),
                                                  self.account_failures),
                                                 ("address", LoginFailure.address, address, self.address_failures)):
                recent = list(session.scalars(select(LoginFailure.at).where(column == value, LoginFailure.at > since)
                                              .order_by(LoginFailure.at.desc()).limit(limit)))
                if len(recent) >= limit:
                    free_at = recent[-1] + self.window  # the oldest of the last `limit` failures leaves the window
                    return Throttled(reason, max(1, ceil((free_at - now).total_seconds())))
        return None

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._sessions.begin() as session:
            session.add(LoginFailure(at=now, username=_key(username), address=address[:100]))
            # the table holds only what the window needs
            session.execute(delete(LoginFailure).where(LoginFailure.at <= now - 2 * self.window))

    def succeeded(self, username: str) -> None:
        """A successful login forgives the account's failures (not the address's)."""
        with self._sessions.begin() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))


def _key(username: str) -> str:
    return username.strip().lower()[:100]
