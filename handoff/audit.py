"""The audit log: logins (success and failure), account changes, case assignments and take-overs, views of
unredacted originals. Append-only; administrators read it on /inbox/audit and export it as CSV.

Others record with `record(actor, action, subject, detail, session=…)`, inside the transaction of what they audit,
so that a change and its audit line are written together or not at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql import Select

from database import Base
from database.types import UTCDateTime

# The actions the desk records (others may add theirs: an action is a dotted name, its first part the area).
LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_FAILED = "login.failed"
LOGIN_THROTTLED = "login.throttled"  # refused without checking the password: too many failures
LOGOUT = "logout"
ACCOUNT_CREATED = "account.created"
ACCOUNT_DISABLED = "account.disabled"
ACCOUNT_ENABLED = "account.enabled"
ACCOUNT_ROLE_CHANGED = "account.role_changed"
ACCOUNT_DEPARTMENT_CHANGED = "account.department_changed"
ACCOUNT_EMAIL_CHANGED = "account.email_changed"
ACCOUNT_NAME_CHANGED = "account.name_changed"
ACCOUNT_PASSWORD_RESET = "account.password_reset"
ACCOUNT_PASSWORD_CHANGED = "account.password_changed"
ACCOUNT_PASSWORD_REHASHED = "account.password_rehashed"
CASE_ASSIGNED = "case.assigned"
CASE_TAKEN_OVER = "case.taken_over"
ORIGINALS_VIEWED = "transcript.originals_viewed"

MAX_DETAIL_CHARS = 2_000
PAGE_SIZE = 100
EXPORT_LIMIT = 100_000


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)  # a username, or "system", or "anonymous"
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)  # an account, a case number, a conversation
    detail: Mapped[str] = mapped_column(Text, default="")


def record(actor: str, action: str, subject: str, detail: str = "", *, session: Session,
           at: datetime | None = None) -> AuditEntry:
    """Add one line to the audit log in `session`'s transaction (committed with it)."""
    entry = AuditEntry(at=at or datetime.now(UTC), actor=actor[:100], action=action[:60], subject=subject[:200],
                       detail=detail[:MAX_DETAIL_CHARS])
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """Every field narrows the log; empty ones match all. `action` matches a whole action or its area ("login")."""

    actor: str = ""
    action: str = ""
    subject: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select) -> Select:
        if self.actor:
            query = query.where(AuditEntry.actor == self.actor.strip().lower())
        if self.action:
            action = self.action.strip()
            query = query.where((AuditEntry.action == action) | AuditEntry.action.startswith(f"{action}."))
        if self.subject:
            query = query.where(AuditEntry.subject == self.subject.strip())
        if self.since is not None:
            query = query.where(AuditEntry.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEntry.at < self.until)
        return query


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    total: int
    page: int
    pages: int


class AuditLog:
    """Reading the log (writing is `record`, or `AuditLog.record` in a transaction of its own)."""

    def __init__(self, sessions: sessionmaker, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self.clock = clock

    def record(self, actor: str, action: str, subject: str, detail: str = "") -> None:
        with self._sessions.begin() as session:
            record(actor, action, subject, detail, session=session, at=self.clock())

    def page(self, filters: AuditFilter, *, page: int = 1, size: int = PAGE_SIZE) -> AuditPage:
        """The newest lines first."""
        with self._sessions() as session:
            total = session.scalar(filters.apply(select(func.count()).select_from(AuditEntry))) or 0
            pages = max(1, -(-total // size))
            page = min(max(page, 1), pages)
            entries = list(session.scalars(filters.apply(select(AuditEntry))
                                           .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                           .offset((page - 1) * size).limit(size)))
            return AuditPage(entries, total, page, pages)

    def actions(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))

    def export_csv(self, filters: AuditFilter) -> str:
        """Every matching line (oldest first, at most EXPORT_LIMIT), as CSV with a header row; times in UTC."""
        with self._sessions() as session:
            entries = session.scalars(filters.apply(select(AuditEntry))
                                      .order_by(AuditEntry.at, AuditEntry.id).limit(EXPORT_LIMIT))
            return to_csv(entries)


def to_csv(entries: Iterable[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at_utc", "actor", "action", "subject", "detail"])
    for e in entries:
        writer.writerow([e.id, e.at.astimezone(UTC).isoformat(timespec="seconds"), _no_formula(e.actor), e.action,
                         _no_formula(e.subject), _no_formula(e.detail)])
    return out.getvalue()


def _no_formula(text: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
