"""The hand-off procedure on stored cases: open, claim, reply, ask for details, reassign, close, escalate."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff import audit
from handoff.deadlines import expected_datetime
from handoff.directory import SLA, Category, Directory
from handoff.models import Case, CaseEvent, CaseState, CaseStatus, MessageDecision, Role
from handoff.routing import Assignment
from outbox import store as outbox
from transcripts.writer import TranscriptWriter

MAX_STAFF_TEXT_CHARS = 4_000
CASE_NUMBER_PREFIX = "CD"


class CaseError(ValueError):
    """A request the procedure refuses, with a reason a person can act on."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (with department), a supervisor, or the system/assistant."""

    username: str
    role: Role = Role.SYSTEM
    department: str | None = None

    def can_see(self, case: Case) -> bool:
        return self.role in (Role.SYSTEM, Role.SUPERVISOR) or case.agency_responsible == self.department


SYSTEM = Actor("assistant")


def case_number(case_id: int, requested: datetime) -> str:
    """CD-YYYY-NNNNNN, with the year of `requested` as given (the desk gives the city's local time)."""
    return f"{CASE_NUMBER_PREFIX}-{requested.year}-{case_id:06d}"


class CaseDesk:
    """Keyword-only operations; each is one transaction and leaves an event in the case's history."""

    def __init__(self, sessions: sessionmaker, directory: Directory, timezone: str, *, transcript: TranscriptWriter,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self.directory = directory
        self.timezone = timezone
        self._clock = clock
        # Staff messages and case notices go into the conversation's transcript in the same transaction
        self.transcript = transcript

    @property
    def sessions(self) -> sessionmaker:
        """The desk's database sessions (the outbox and other owners read the same database)."""
        return self._sessions

    def now(self) -> datetime:
        return self._clock()

    def open_case(self, *, description: str, channel: str, conversation_id: str, sla: SLA,
                  assignment: Assignment, category: Category | None = None, address: str | None = None,
                  district: str | None = None, lat: float | None = None, long: float | None = None,
                  contact: Mapping[str, str | None] | None = None) -> Case:
        if not description.strip():
            raise CaseError("a case needs a description")
        now = self.now()
        with self._sessions.begin() as session:
            case = Case(service_request_id=f"pending-{now.timestamp()}-{conversation_id}"[:40],
                        service_code=category.code if category else None,
                        service_name=category.name if category else None, description=description,
                        status=CaseStatus.OPEN, state=CaseState.NEW, agency_responsible=assignment.department.code,
                        sla=sla.value,
                        requested_datetime=now, updated_datetime=now,
                        expected_datetime=expected_datetime(now, sla, self.timezone),
                        is_emergency=sla == SLA.EMERGENCY, channel=channel, conversation_id=conversation_id,
                        address=address, district=district, lat=lat, long=long,
                        routing_reason=assignment.reason, **(contact or {}))
            session.add(case)
            session.flush()
            case.service_request_id = case_number(case.id, now.astimezone(ZoneInfo(self.timezone)))
            event = self._event(session, case, SYSTEM, "opened", None,
                                {"department": case.agency_responsible, "sla": sla.value,
                                 "reason": assignment.reason})
            due = case.expected_datetime.astimezone(ZoneInfo(self.timezone))
            self._notice(session, case, f"Case {case.service_request_id} opened for {assignment.department.name}"
                                        f" ({sla.value}), expected by {due:%Y-%m-%d %H:%M %Z}.")
            if case.is_emergency:
                officer = self.directory.duty_officer
                outbox.enqueue(session, key=f"event-{event.id}-duty", channel="email", conversation_id=officer.email,
                               case_id=case.id, now=now, text=f"Emergency reported in case {case.service_request_id} "
                                                              f"({channel}): {description[:500]}")
            return self._detached(session, case)

    def get(self, service_request_id: str, actor: Actor = SYSTEM) -> Case:
        with self._sessions() as session:
            case = session.scalar(select(Case).where(Case.service_request_id == service_request_id.upper()))
            if case is None or not actor.can_see(case):
                raise LookupError(f"no case {service_request_id}")
            return self._detached(session, case)

    def for_conversation(self, conversation_id: str) -> list[Case]:
        """A citizen's cases, newest first."""
        with self._sessions() as session:
            cases = session.scalars(select(Case).where(Case.conversation_id == conversation_id)
                                    .order_by(Case.id.desc())).all()
            return [self._detached(session, c) for c in cases]

    def requests(self, *, ids: Sequence[str] = (), service_codes: Sequence[str] = (),
                 statuses: Sequence[str] = (), start: datetime | None = None, end: datetime | None = None,
                 limit: int = 1000) -> list[Case]:
        """Cases by Open311's filters (an empty filter matches all), newest first, without their history."""
        query = select(Case).order_by(Case.requested_datetime.desc(), Case.id.desc()).limit(limit)
        if ids:
            query = query.where(Case.service_request_id.in_([i.upper() for i in ids]))
        if service_codes:
            query = query.where(Case.service_code.in_(service_codes))
        if statuses:
            query = query.where(Case.status.in_(statuses))
        if start is not None:
            query = query.where(Case.requested_datetime >= start)
        if end is not None:
            query = query.where(Case.requested_datetime <= end)
        with self._sessions() as session:
            cases = list(session.scalars(query))
            session.expunge_all()
            return cases

    def inbox(self, actor: Actor, *, include_closed: bool = False, department: str | None = None) -> list[Case]:
        """The cases an actor may see, oldest deadline first; `department` narrows a supervisor's view."""
        with self._sessions() as session:
            query = select(Case).order_by(Case.expected_datetime, Case.id)
            if actor.role not in (Role.SYSTEM, Role.SUPERVISOR):  # the same rule as Actor.can_see
                query = query.where(Case.agency_responsible == actor.department)
            if department is not None:
                query = query.where(Case.agency_responsible == department)
            if not include_closed:
                query = query.where(Case.status == CaseStatus.OPEN)
            return [self._detached(session, c) for c in session.scalars(query)]

    def claim(self, *, service_request_id: str, actor: Actor) -> Case:
        with self._change(service_request_id, actor) as (session, case):
            previous = case.assignee
            audit.record(actor.username, audit.CASE_TAKEN_OVER if previous and previous != actor.username
                         else audit.CASE_ASSIGNED, case.service_request_id,
                         f"from {previous} to {actor.username}" if previous else f"to {actor.username}",
                         session=session, at=self.now())
            case.assignee = actor.username
            case.state = CaseState.ASSIGNED
            self._event(session, case, actor, "claimed", None, {})
        return self.get(service_request_id, actor)

    def reply(self, *, service_request_id: str, actor: Actor, text: str, entry_id: str | None = None) -> Case:
        """Answer the citizen on their channel; the case stays open until someone closes it.

        `entry_id`: the reply is that knowledge base entry's answer, and the case is linked to the entry.
        """
        text = self._staff_text(text)
        with self._change(service_request_id, actor) as (session, case):
            case.state = CaseState.ANSWERED
            case.status_notes = text
            case.assignee = case.assignee or actor.username
            event = self._event(session, case, actor, "replied", text, {"entry_id": entry_id} if entry_id else {})
            self._queue(session, case, event, f"{case.service_request_id}: {text}")
        return self.get(service_request_id, actor)

    def ask_details(self, *, service_request_id: str, actor: Actor, text: str) -> Case:
        text = self._staff_text(text)
        with self._change(service_request_id, actor) as (session, case):
            case.state = CaseState.WAITING_CITIZEN
            event = self._event(session, case, actor, "asked_details", text, {})
            self._queue(session, case, event, f"{case.service_request_id}: {text}")
        return self.get(service_request_id, actor)

    def reassign(self, *, service_request_id: str, actor: Actor, department: str, reason: str) -> Case:
        if not reason.strip():
            raise CaseError("say why the case goes to another department")
        try:
            target = self.directory.department(department)
        except KeyError:
            raise CaseError(f"unknown department {department!r}") from None
        with self._change(service_request_id, actor) as (session, case):
            if target.code == case.agency_responsible:
                raise CaseError(f"the case is already with {target.name}")
            previous = case.agency_responsible
            case.agency_responsible = target.code
            case.assignee = None
            case.state = CaseState.NEW
            self._event(session, case, actor, "reassigned", reason.strip(), {"from": previous, "to": target.code})
            self._notice(session, case, f"Case {case.service_request_id} passed to {target.name}.")
        return self.get(service_request_id, SYSTEM)

    def close(self, *, service_request_id: str, actor: Actor, note: str | None = None) -> Case:
        with self._change(service_request_id, actor) as (session, case):
            case.status = CaseStatus.CLOSED
            case.state = CaseState.CLOSED
            if note and note.strip():
                case.status_notes = self._staff_text(note)
            self._event(session, case, actor, "closed", note, {})
            self._notice(session, case, f"Case {case.service_request_id} closed.")
        return self.get(service_request_id, actor)

    def escalate_overdue(self) -> list[Case]:
        """Flag open cases past their deadline and notify their department's head; once per case."""
        now = self.now()
        escalated = []
        with self._sessions.begin() as session:
            overdue = session.scalars(select(Case).where(Case.status == CaseStatus.OPEN, Case.escalated_at.is_(None),
                                                         Case.expected_datetime < now))
            for case in overdue:
                case.escalated_at = now
                head = self.directory.department(case.agency_responsible).head
                event = self._event(session, case, SYSTEM, "escalated", None, {"notified": head.email})
                outbox.enqueue(session, key=f"event-{event.id}", channel="email", conversation_id=head.email,
                               case_id=case.id, now=now, text=f"Overdue: case {case.service_request_id} "
                                                              f"(due {case.expected_datetime.isoformat()})")
                escalated.append(case)
            return [self._detached(session, c) for c in escalated]

    def record_decision(self, *, channel: str, conversation_id: str, text: str, intent: str | None, route: str,
                        reason: str, entry_id: str | None, confidence: float | None,
                        case: Case | None) -> None:
        with self._sessions.begin() as session:
            session.add(MessageDecision(at=self.now(), channel=channel, conversation_id=conversation_id,
                                        text=text, intent=intent, route=route, reason=reason, entry_id=entry_id,
                                        confidence=confidence, case_id=case.id if case else None))

    def decisions(self, conversation_id: str) -> list[MessageDecision]:
        with self._sessions() as session:
            rows = session.scalars(select(MessageDecision).where(MessageDecision.conversation_id == conversation_id)
                                   .order_by(MessageDecision.id)).all()
            session.expunge_all()
            return list(rows)

    def _staff_text(self, text: str) -> str:
        text = text.strip()
        if not text:
            raise CaseError("the message is empty")
        if len(text) > MAX_STAFF_TEXT_CHARS:
            raise CaseError(f"the message is {len(text)} characters long; the limit is {MAX_STAFF_TEXT_CHARS}")
        return text

    @contextmanager
    def _change(self, service_request_id: str, actor: Actor) -> Iterator[tuple[Session, Case]]:
        """A transaction on one open case the actor may see; stamps its updated_datetime."""
        with self._sessions.begin() as session:
            case = session.scalar(select(Case).where(Case.service_request_id == service_request_id.upper()))
            if case is None or not actor.can_see(case):
                raise LookupError(f"no case {service_request_id}")
            if case.status == CaseStatus.CLOSED:
                raise CaseError(f"case {case.service_request_id} is closed")
            case.updated_datetime = self.now()
            yield session, case

    def _event(self, session: Session, case: Case, actor: Actor, kind: str, text: str | None,
               data: dict) -> CaseEvent:
        event = CaseEvent(case=case, at=self.now(), actor=actor.username, kind=kind, text=text, data=data)
        session.add(event)
        session.flush()
        return event

    def _notice(self, session: Session, case: Case, text: str) -> None:
        self.transcript.append_in(session, channel=case.channel, conversation_id=case.conversation_id,
                                  author_role="system", text=text, case_id=case.service_request_id)

    def _queue(self, session: Session, case: Case, event: CaseEvent, text: str) -> None:
        """A staff message to the citizen: recorded in the transcript, then queued for their channel."""
        self.transcript.append_in(session, channel=case.channel, conversation_id=case.conversation_id,
                                  author_role="staff", author=event.actor, text=text,
                                  case_id=case.service_request_id)
        outbox.enqueue(session, key=f"event-{event.id}", channel=case.channel, conversation_id=case.conversation_id,
                       case_id=case.id, text=text, now=self.now())

    @staticmethod
    def _detached(session: Session, case: Case) -> Case:
        _ = case.events  # load the history before the session closes
        session.expunge(case)
        return case
