"""What the inbox says about e-mail: the banner when no SMTP server is configured, and each notice of a case with
its state ("e-mail to X: sent 10:32", "failed: reason", "queued: no SMTP server configured")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from desk.web.formatting import local_time
from outbox.mail import CHANNEL, subject_of
from outbox.models import OutboxMessage, OutboxState
from outbox.store import for_case
from settings import Settings

NO_SMTP_BANNER = ("E-mail notices are not being sent: no SMTP server is configured (CITYDESK_SMTP_URL). "
                  "New-case, emergency, reminder and overdue notices stay queued until one is.")


@dataclass(frozen=True)
class MailLine:
    to: str
    subject: str
    state: str  # queued, sending, sent, failed, retrying (the page's class)
    status: str  # what the page says after "e-mail to X: "


def mail_banner(settings: Settings) -> str | None:
    return None if settings.smtp_configured else NO_SMTP_BANNER


def mail_lines(sessions: sessionmaker, case_id: int, *, timezone: str, smtp_configured: bool) -> list[MailLine]:
    """The case's e-mail notices, oldest first, each with its state as staff read it."""
    return [MailLine(to=row.conversation_id, subject=subject_of(row.text), state=_state(row),
                     status=_status(row, timezone, smtp_configured))
            for row in for_case(sessions, case_id, CHANNEL)]


def _state(row: OutboxMessage) -> str:
    if row.state in (OutboxState.QUEUED, OutboxState.SENDING) and row.last_error:
        return "retrying"
    return str(row.state)


def _status(row: OutboxMessage, timezone: str, smtp_configured: bool) -> str:
    if row.state == OutboxState.SENT and row.delivered_at is not None:
        return f"sent {local_time(row.delivered_at, timezone)}"
    if row.state == OutboxState.FAILED:
        return f"failed: {row.last_error or 'refused'} (after {row.attempts} attempt{'s' if row.attempts != 1 else ''})"
    if not smtp_configured:
        return "queued: no SMTP server configured"
    if row.last_error:
        nxt = f"; next try {local_time(row.next_attempt_at, timezone)}" if row.next_attempt_at else ""
        return f"queued, retrying: attempt {row.attempts} failed ({row.last_error}){nxt}"
    return "sending" if row.state == OutboxState.SENDING else "queued"
