"""Shared by the disclosure tests: conversations written in the past through the real writer and hand-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from database import create_db_engine, session_factory
from handoff.models import Case
from handoff.service import Actor
from settings import Settings
from tests.handoff.conftest import desk_at, open_case
from tests.transcripts.conftest import writer_for
from transcripts.writer import TranscriptWriter

DAYS_AGO = 3


def at(days: float = DAYS_AGO, **delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days, **delta)


def writer_at(settings: Settings, moment: datetime) -> TranscriptWriter:
    sessions = session_factory(create_db_engine(settings.resolved_database_url))
    return writer_for(sessions, clock=lambda: moment)


def say(settings: Settings, moment: datetime, conversation_id: str, role: str, text: str, *,
        channel: str = "telegram", entry_id: str | None = None) -> None:
    writer_at(settings, moment).append(channel=channel, conversation_id=conversation_id, author_role=role,
                                       text=text, entry_id=entry_id, entry_version=1 if entry_id else None)


def report(settings: Settings, moment: datetime, conversation_id: str, text: str, category: str,
           *, answer: str | None = None, close: bool = False) -> Case:
    """A citizen's report that became a case, optionally answered and closed by its department's staff."""
    say(settings, moment, conversation_id, "citizen", text)
    cases = desk_at(settings, moment + timedelta(seconds=1))
    case = open_case(cases, category=category, text=text, conversation_id=conversation_id)
    staff = Actor(username="officer", role="staff", department=case.agency_responsible)
    if answer:
        case = desk_at(settings, moment + timedelta(minutes=30)).reply(
            service_request_id=case.service_request_id, actor=staff, text=answer)
    if close:
        case = desk_at(settings, moment + timedelta(hours=1)).close(service_request_id=case.service_request_id,
                                                                    actor=staff)
    return case
