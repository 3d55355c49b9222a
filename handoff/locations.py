"""Where a case is: a location the citizen sends goes on their conversation's case, in its history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import Case, CaseEvent, CaseStatus


def locate_open_case(session: Session, *, conversation_id: str, lat: float, long: float, channel: str,
                     now: datetime) -> Case | None:
    """A location sent in a conversation with an open case goes on that case (and its history)."""
    case = session.scalar(select(Case).where(Case.conversation_id == conversation_id, Case.status == CaseStatus.OPEN)
                          .order_by(Case.id.desc()).limit(1))
    if case is not None:
        _locate(session, case, lat, long, channel, now)
    return case


def locate_new_case(session: Session, *, conversation_id: str, service_request_id: str,
                    last_location: tuple[float, float, str] | None, now: datetime) -> None:
    """A case just opened in a conversation where the citizen had sent a location (lat, long, channel) gets it,
    unless it has one."""
    case = session.scalar(select(Case).where(Case.service_request_id == service_request_id.upper()))
    if case is None or case.lat is not None or case.conversation_id != conversation_id or last_location is None:
        return
    _locate(session, case, *last_location, now)


def _locate(session: Session, case: Case, lat: float, long: float, channel: str, now: datetime) -> None:
    case.lat, case.long, case.updated_datetime = lat, long, now
    session.add(CaseEvent(case=case, at=now, actor="citizen", kind="location_added", text=None,
                          data={"lat": lat, "long": long, "channel": channel}))
