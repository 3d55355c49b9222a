"""Cases (Open311 GeoReport v2 names where they mean the same), their history, decisions, staff accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base
from database.types import UTCDateTime


class CaseStatus(StrEnum):
    """Open311's two statuses, as the public sees a case."""

    OPEN = "open"
    CLOSED = "closed"


class CaseState(StrEnum):
    """Where a case is in the department's work (Seoul's procedure: assign, answer, review, close).

    new (nobody has it) -> assigned (an officer has it) -> in_review (the officer's draft answer waits for a
    reviewer, where the department wants answers reviewed; returned: assigned again) -> answered (the citizen has
    the answer) -> closed. waiting_citizen: the officer asked the citizen for details; the deadline's clock stands
    still until the citizen replies (then assigned, or new). Open311's `status` stays open or closed.
    """

    NEW = "new"
    ASSIGNED = "assigned"
    WAITING_CITIZEN = "waiting_citizen"
    IN_REVIEW = "in_review"
    ANSWERED = "answered"
    CLOSED = "closed"


class Role(StrEnum):
    """Who acts: the desk itself, or a staff account's role."""

    SYSTEM = "system"
    STAFF = "staff"
    HEAD = "head"  # a department's head: assigns its cases, reviews its answers
    SUPERVISOR = "supervisor"
    EDITOR = "editor"
    ADMIN = "admin"  # staff accounts and the audit log (revision 0015s)
    BROADCASTER = "broadcaster"  # drafts and approves emergency broadcasts (the communications office; 0017b)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_request_id: Mapped[str] = mapped_column(String(40), unique=True)
    service_code: Mapped[str | None] = mapped_column(String(100))
    service_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[CaseStatus] = mapped_column(String(20), default=CaseStatus.OPEN)  # Open311
    state: Mapped[CaseState] = mapped_column(String(30), default=CaseState.NEW)
    status_notes: Mapped[str | None] = mapped_column(Text)
    agency_responsible: Mapped[str] = mapped_column(String(100), index=True)  # department code
    sla: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str | None] = mapped_column(String(100))
    requested_datetime: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_datetime: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_datetime: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the fair clock (handoff/clock.py; revision 0015a): the first answer the citizen received, the closing, the
    # pause while the case waits for the citizen (paused_at: since when; paused_seconds: earlier pauses in all)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[float] = mapped_column(default=0.0)
    # the officer's answer waiting for review (state in_review), or returned to them with a comment (assigned)
    draft_text: Mapped[str | None] = mapped_column(Text)
    draft_by: Mapped[str | None] = mapped_column(String(100))
    draft_entry_id: Mapped[str | None] = mapped_column(String(200))
    draft_event_id: Mapped[int | None]  # the case event that submitted it: a stale approval names an older one
    is_emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(30))
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float | None]
    long: Mapped[float | None]
    routing_reason: Mapped[str | None] = mapped_column(Text)
    # personal contact data: never returned by the public Open311 GETs
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(100))
    device_id: Mapped[str | None] = mapped_column(String(200))  # Open311 filers
    account_id: Mapped[str | None] = mapped_column(String(200))  # the Open311 filer's account, not the city's
    account: Mapped[str | None] = mapped_column(String(60), index=True)  # the city's account the citizen wrote to
    # retention (transcripts/retention.py) removed the personal data above and the citizen's text (revision 0011)
    personal_data_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id",
                                                   cascade="all, delete-orphan")


class CaseEvent(Base):
    """One change of a case: who, when, what, why. Append-only."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")


class MessageDecision(Base):
    """What the desk decided for one citizen message: the route, the entry or the case."""

    __tablename__ = "message_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(30))
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(100))
    route: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    text_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # retention replaced `text` (rev. 0011)


class StaffUser(Base):
    __tablename__ = "staff_users"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # staff | head | supervisor | editor | admin
    department: Mapped[str | None] = mapped_column(String(100))
    reviewer: Mapped[bool] = mapped_column(Boolean, default=False)  # may approve answers of their department
    email: Mapped[str | None] = mapped_column(String(300))  # the officer's own notices go here (revision 0017d)
    # staff administration (revision 0015s): a disabled account cannot log in and its sessions end; a temporary
    # password (an administrator's reset) must be changed at the first login and expires unused
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
