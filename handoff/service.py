"""The hand-off procedure on stored cases: open, assign (claim, take over), reply (or draft and review), ask for
details (the clock stops) and hear back (it runs again), internal notes, reassign, close, escalate."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import EllipsisType
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from handoff import audit
from handoff.clock import ClockReading, WorkingCalendar, deadline_state
from handoff.deadlines import expected_datetime, resumed_deadline
from handoff.directory import SLA, Category, Department, Directory
from handoff.models import Case, CaseEvent, CaseState, CaseStatus, MessageDecision, Role, StaffUser
from handoff.notices import CaseMail, Notice
from handoff.routing import Assignment
from outbox import store as outbox
from transcripts.writer import TranscriptWriter

MAX_STAFF_TEXT_CHARS = 4_000
OPEN311_CHANNEL = "open311"
CASE_NUMBER_PREFIX = "CD"
# A case number as citizens type it: "CD-2026-000123", "cd2026123".
CASE_NUMBER = re.compile(r"\b([A-Z]{2})-?(\d{4})-?(\d{3,6})\b", re.IGNORECASE)


class CaseError(ValueError):
    """A request the procedure refuses, with a reason a person can act on."""


class CaseConflict(CaseError):
    """The case changed since the person looked at it (another officer took it, the draft was replaced): nothing
    was done, so that nobody's work is silently overwritten."""


class InboxView(StrEnum):
    """The inbox's views of the open cases an actor may see."""

    ALL = "all"
    MINE = "mine"  # assigned to the actor
    UNASSIGNED = "unassigned"
    REVIEW = "review"  # a draft answer waits for a reviewer


OFFICER_ROLES = (Role.STAFF, Role.HEAD)  # who can be assigned a case of their department
ASSIGNMENT_EVENTS = ("claimed", "assigned", "taken_over", "reassigned")
CITIZEN = "citizen"


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member (with department), a supervisor, or the system/assistant."""

    username: str
    role: Role = Role.SYSTEM
    department: str | None = None
    reviewer: bool = False  # a staff member who may approve their department's answers

    def can_see(self, case: Case) -> bool:
        return self.role in (Role.SYSTEM, Role.SUPERVISOR) or case.agency_responsible == self.department

    def can_assign(self, case: Case) -> bool:
        """The department's head, or a supervisor, assigns a case to a named officer."""
        return self.role in (Role.SYSTEM, Role.SUPERVISOR) or (
            self.role == Role.HEAD and case.agency_responsible == self.department)

    def can_review(self, case: Case) -> bool:
        """The department's head, a supervisor, or a staff member of the department marked reviewer."""
        return self.can_assign(case) or (self.reviewer and case.agency_responsible == self.department)


SYSTEM = Actor("assistant")


def case_number(case_id: int, requested: datetime) -> str:
    """CD-YYYY-NNNNNN, with the year of `requested` as given (the desk gives the city's local time)."""
    return f"{CASE_NUMBER_PREFIX}-{requested.year}-{case_id:06d}"


class CaseDesk:
    """Keyword-only operations; each is one transaction and leaves an event in the case's history."""

    def __init__(self, sessions: sessionmaker, directory: Directory, timezone: str, *, transcript: TranscriptWriter,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 calendar: WorkingCalendar | None = None, mail: CaseMail | None = None) -> None:
        self._sessions = sessions
        self.directory = directory
        self.timezone = timezone
        self._clock = clock
        # office hours are counted in the city's time zone, without its public holidays (settings: holidays_*)
        self.calendar = calendar or WorkingCalendar(timezone)
        # the e-mail notices (handoff/notices.py); the desk passes one with the redactor and its address
        self.mail = mail or CaseMail(timezone=timezone)
        # Staff messages and case notices go into the conversation's transcript in the same transaction
        self.transcript = transcript

    @property
    def sessions(self) -> sessionmaker:
        """The desk's database sessions (the outbox and other owners read the same database)."""
        return self._sessions

    def now(self) -> datetime:
        return self._clock()

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Read the time from `clock` from now on (tests and simulations: time that must pass)."""
        self._clock = clock

    def open_case(self, *, description: str, channel: str, conversation_id: str, sla: SLA,
                  assignment: Assignment, category: Category | None = None, address: str | None = None,
                  district: str | None = None, lat: float | None = None, long: float | None = None,
                  contact: Mapping[str, str | None] | None = None, account: str | None = None) -> Case:
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
                        expected_datetime=expected_datetime(now, sla, self.timezone,
                                                            office_hours=assignment.department.hours,
                                                            calendar=self.calendar),
                        is_emergency=sla == SLA.EMERGENCY, channel=channel, conversation_id=conversation_id,
                        address=address, district=district, lat=lat, long=long,
                        routing_reason=assignment.reason, account=account, **(contact or {}))
            session.add(case)
            session.flush()
            case.service_request_id = case_number(case.id, now.astimezone(ZoneInfo(self.timezone)))
            self._event(session, case, SYSTEM, "opened", None,
                        {"department": case.agency_responsible, "sla": sla.value, "reason": assignment.reason})
            due = case.expected_datetime.astimezone(ZoneInfo(self.timezone))
            self._notice(session, case, f"Case {case.service_request_id} opened for {assignment.department.name}"
                                        f" ({sla.value}), expected by {due:%Y-%m-%d %H:%M %Z}.")
            self.mail.new_case(session, case, self.directory, now)  # the head; an emergency: the duty officer
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

    def view(self, actor: Actor, view: InboxView, *, department: str | None = None) -> list[Case]:
        """One of the inbox's views of the open cases the actor may see, oldest deadline first."""
        with self._sessions() as session:
            query = self._view_query(select(Case), actor, view, department).order_by(Case.expected_datetime, Case.id)
            return [self._detached(session, c) for c in session.scalars(query)]

    def view_counts(self, actor: Actor, *, department: str | None = None) -> dict[InboxView, int]:
        """How many open cases each view shows the actor."""
        with self._sessions() as session:
            return {view: session.scalar(self._view_query(select(func.count()).select_from(Case), actor, view,
                                                          department)) or 0
                    for view in InboxView}

    def closed_count(self, actor: Actor, *, department: str | None = None) -> int:
        """How many closed cases the actor may see (the inbox's closed view)."""
        query = select(func.count()).select_from(Case).where(Case.status == CaseStatus.CLOSED)
        if actor.role not in (Role.SYSTEM, Role.SUPERVISOR):  # the same rule as Actor.can_see
            query = query.where(Case.agency_responsible == actor.department)
        if department is not None:
            query = query.where(Case.agency_responsible == department)
        with self._sessions() as session:
            return session.scalar(query) or 0

    @staticmethod
    def _view_query(query: Select, actor: Actor, view: InboxView, department: str | None) -> Select:
        query = query.where(Case.status == CaseStatus.OPEN)
        if actor.role not in (Role.SYSTEM, Role.SUPERVISOR):  # the same rule as Actor.can_see
            query = query.where(Case.agency_responsible == actor.department)
        if department is not None:
            query = query.where(Case.agency_responsible == department)
        if view == InboxView.MINE:
            query = query.where(Case.assignee == actor.username)
        elif view == InboxView.UNASSIGNED:  # new: nobody has taken it (the inbox's search filters by this state)
            query = query.where(Case.state == CaseState.NEW)
        elif view == InboxView.REVIEW:
            query = query.where(Case.state == CaseState.IN_REVIEW)
        return query

    def claim(self, *, service_request_id: str, actor: Actor, seen_assignee: str | EllipsisType | None = ...) -> Case:
        """Take an unassigned case. One someone else holds needs `take_over`, with a reason.

        `seen_assignee`: who held the case when the person looked (a form's hidden field); if that changed since,
        CaseConflict and nothing changes.
        """
        with self._change(service_request_id, actor) as (session, case):
            self._check_seen(session, case, seen_assignee)
            if case.assignee == actor.username:
                raise CaseError("you already have this case")
            if case.assignee is not None:
                raise CaseConflict(f"{case.assignee} has this case; to take it over, say why (Take over)")
            self._assign(case, actor.username)
            audit.record(actor.username, audit.CASE_ASSIGNED, case.service_request_id, f"to {actor.username}",
                         session=session, at=self.now())
            self._event(session, case, actor, "claimed", None, {"to": actor.username})
        return self.get(service_request_id, actor)

    def assign(self, *, service_request_id: str, actor: Actor, officer: str, reason: str = "",
               seen_assignee: str | EllipsisType | None = ...) -> Case:
        """The department's head (or a supervisor) gives the case to a named officer of the department."""
        officer = officer.strip().lower()
        with self._change(service_request_id, actor) as (session, case):
            if not actor.can_assign(case):
                raise CaseError("only the department's head or a supervisor assigns cases; take it yourself instead")
            self._check_seen(session, case, seen_assignee)
            if not officer:
                raise CaseError("choose the officer the case goes to")
            person = session.get(StaffUser, officer)
            department = self._department(case)
            if person is None or person.department != case.agency_responsible or person.role not in OFFICER_ROLES:
                raise CaseError(f"{officer} is not an officer of {department.name}")
            if case.assignee == person.username:
                raise CaseError(f"the case is already assigned to {person.username}")
            previous = case.assignee
            self._assign(case, person.username)
            self._event(session, case, actor, "assigned", reason.strip() or None,
                        {"to": person.username, "from": previous})
            audit.record(actor.username, audit.CASE_ASSIGNED, case.service_request_id,
                         f"from {previous} to {person.username}" if previous else f"to {person.username}",
                         session=session, at=self.now())
            self.mail.assigned(session, case, self.directory, self.now(), by=actor.username)
            if previous is not None:
                self.mail.moved_from(session, case, self.directory, self.now(), previous=previous, by=actor.username,
                                     reason=reason.strip() or None)
        return self.get(service_request_id, actor)

    def take_over(self, *, service_request_id: str, actor: Actor, reason: str,
                  seen_assignee: str | EllipsisType | None = ...) -> Case:
        """Take a case another officer holds: only with a reason, recorded with who took it from whom."""
        with self._change(service_request_id, actor) as (session, case):
            self._check_seen(session, case, seen_assignee)
            if case.assignee is None:
                raise CaseError("nobody has this case: claim it instead")
            if case.assignee == actor.username:
                raise CaseError("you already have this case")
            if not reason.strip():
                raise CaseError(f"say why you take the case over from {case.assignee}")
            previous = case.assignee
            self._assign(case, actor.username)
            self._event(session, case, actor, "taken_over", self._staff_text(reason),
                        {"to": actor.username, "from": previous})
            audit.record(actor.username, audit.CASE_TAKEN_OVER, case.service_request_id,
                         f"from {previous} to {actor.username}: {reason.strip()}", session=session, at=self.now())
            self.mail.moved_from(session, case, self.directory, self.now(), previous=previous, by=actor.username,
                                 reason=reason.strip())
        return self.get(service_request_id, actor)

    def officers(self, department: str) -> list[StaffUser]:
        """The staff who can be assigned the department's cases (its officers and its head), by username."""
        with self._sessions() as session:
            people = list(session.scalars(select(StaffUser).where(StaffUser.department == department,
                                                                  StaffUser.role.in_(OFFICER_ROLES))
                                          .order_by(StaffUser.username)))
            session.expunge_all()
            return people

    def reply(self, *, service_request_id: str, actor: Actor, text: str, entry_id: str | None = None) -> Case:
        """Answer the citizen on their channel; the case stays open until someone closes it.

        Where the department wants answers reviewed and the actor is no reviewer, the answer is a draft instead:
        the case waits (in_review) for a reviewer to approve or return it. `entry_id`: the reply is that knowledge
        base entry's answer, and the case is linked to the entry.
        """
        text = self._staff_text(text)
        with self._change(service_request_id, actor) as (session, case):
            case.assignee = case.assignee or actor.username
            if self._department(case).review_answers and not actor.can_review(case):
                case.state = CaseState.IN_REVIEW
                event = self._event(session, case, actor, "draft_submitted", text,
                                    {"entry_id": entry_id} if entry_id else {})
                case.draft_text, case.draft_by, case.draft_entry_id = text, actor.username, entry_id
                case.draft_event_id = event.id
            else:
                event = self._event(session, case, actor, "replied", text, {"entry_id": entry_id} if entry_id else {})
                self._answer(session, case, event, text, author=actor.username)
        return self.get(service_request_id, actor)

    def approve(self, *, service_request_id: str, actor: Actor, draft_event_id: int | None = None) -> Case:
        """A reviewer sends the draft answer to the citizen. `draft_event_id`: the draft the reviewer read; if it
        was replaced or returned since, CaseConflict and nothing is sent."""
        with self._change(service_request_id, actor) as (session, case):
            draft = self._draft_for_review(case, actor, draft_event_id)
            if case.draft_by == actor.username:
                raise CaseError("a second person reviews an answer: you drafted this one")
            event = self._event(session, case, actor, "approved", draft,
                                {"drafted_by": case.draft_by, **({"entry_id": case.draft_entry_id}
                                                                 if case.draft_entry_id else {})})
            self._answer(session, case, event, draft, author=case.draft_by or actor.username)
        return self.get(service_request_id, actor)

    def return_draft(self, *, service_request_id: str, actor: Actor, comment: str,
                     draft_event_id: int | None = None) -> Case:
        """A reviewer sends the draft back to its officer with a comment; the citizen receives nothing yet."""
        with self._change(service_request_id, actor) as (session, case):
            self._draft_for_review(case, actor, draft_event_id)
            if not comment.strip():
                raise CaseError("say what the officer should change (the comment)")
            case.state = CaseState.ASSIGNED
            case.draft_event_id = None  # the text stays, for the officer to edit
            event = self._event(session, case, actor, "draft_returned", self._staff_text(comment),
                                {"drafted_by": case.draft_by})
            self.mail.returned(session, case, self.directory, comment, by=actor.username, key=f"event-{event.id}",
                               now=self.now())
        return self.get(service_request_id, actor)

    def add_note(self, *, service_request_id: str, actor: Actor, text: str) -> Case:
        """An internal note: staff only; never sent, never published, never the case's public answer."""
        text = self._staff_text(text)
        with self._change(service_request_id, actor, allow_closed=True) as (session, case):
            self._event(session, case, actor, "note", text, {})
        return self.get(service_request_id, actor)

    def ask_details(self, *, service_request_id: str, actor: Actor, text: str) -> Case:
        """Ask the citizen (on their channel) for what the department needs; the clock stands still until they
        reply (`citizen_replied`)."""
        text = self._staff_text(text)
        with self._change(service_request_id, actor) as (session, case):
            if case.state == CaseState.IN_REVIEW:
                raise CaseError("a draft answer waits for review: approve or return it first")
            case.state = CaseState.WAITING_CITIZEN
            pauses = case.answered_at is None and case.paused_at is None
            if pauses:
                case.paused_at = self.now()
            event = self._event(session, case, actor, "asked_details", text, {"clock_paused": pauses})
            self._queue(session, case, event, f"{case.service_request_id}: {text}")
        return self.get(service_request_id, actor)

    def waiting_for_citizen(self, conversation_id: str) -> Case | None:
        """The conversation's newest open case that waits for the citizen's reply, if any."""
        with self._sessions() as session:
            case = session.scalar(select(Case).where(Case.conversation_id == conversation_id,
                                                     Case.status == CaseStatus.OPEN,
                                                     Case.state == CaseState.WAITING_CITIZEN)
                                  .order_by(Case.id.desc()).limit(1))
            return self._detached(session, case) if case is not None else None

    def citizen_replied(self, *, service_request_id: str, text: str) -> Case:
        """The citizen's message after the department asked them: into the case's thread; the clock runs again
        (with the working time it had left) and the case is the officer's again."""
        with self._change(service_request_id, SYSTEM) as (session, case):
            paused_for = self._resume_clock(case)
            if case.state == CaseState.WAITING_CITIZEN:
                case.state = CaseState.ASSIGNED if case.assignee else CaseState.NEW
            event = self._event(session, case, Actor(CITIZEN), "citizen_replied", text.strip() or None,
                                {"paused_for_s": paused_for.total_seconds() if paused_for is not None else None,
                                 "expected": case.expected_datetime.isoformat()})
            self.mail.follow_up(session, case, self.directory, text, key=f"event-{event.id}", now=self.now())
        return self.get(service_request_id)

    def clock(self, case: Case) -> ClockReading:
        """Where the case stands against its deadline now (paused, due, overdue, met or missed)."""
        return deadline_state(expected=case.expected_datetime, now=self.now(), answered_at=case.answered_at,
                              closed_at=case.closed_at, paused_at=case.paused_at, paused_seconds=case.paused_seconds)

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
            case.state = CaseState.WAITING_CITIZEN if case.paused_at is not None else CaseState.NEW
            case.draft_text = case.draft_by = case.draft_entry_id = None
            case.draft_event_id = None
            self._event(session, case, actor, "reassigned", reason.strip(), {"from": previous, "to": target.code})
            self._notice(session, case, f"Case {case.service_request_id} passed to {target.name}.")
            self.mail.new_case(session, case, self.directory, self.now())  # new to the target department
        return self.get(service_request_id, SYSTEM)

    def close(self, *, service_request_id: str, actor: Actor, note: str | None = None) -> Case:
        with self._change(service_request_id, actor) as (session, case):
            if case.state == CaseState.IN_REVIEW:
                raise CaseError("a draft answer waits for review: approve or return it before closing")
            self._resume_clock(case)
            case.closed_at = self.now()
            case.status = CaseStatus.CLOSED
            case.state = CaseState.CLOSED
            if note and note.strip():
                case.status_notes = self._staff_text(note)
            self._event(session, case, actor, "closed", note, {})
            self._notice(session, case, f"Case {case.service_request_id} closed.")
        return self.get(service_request_id, actor)

    def escalate_overdue(self) -> list[Case]:
        """Flag open cases past their deadline and still unanswered, and notify their department's head and the
        duty officer; once per case. A case answered in time is not overdue, whatever its state; one waiting for the
        citizen is not either, unless it was overdue when the department asked."""
        now = self.now()
        escalated = []
        with self._sessions.begin() as session:
            overdue = session.scalars(select(Case).where(Case.status == CaseStatus.OPEN, Case.escalated_at.is_(None),
                                                         Case.expected_datetime < now, Case.answered_at.is_(None),
                                                         or_(Case.paused_at.is_(None),
                                                             Case.paused_at > Case.expected_datetime)))
            for case in overdue:
                case.escalated_at = now
                head = self.directory.department(case.agency_responsible).head
                self._event(session, case, SYSTEM, "escalated", None, {"notified": head.email})
                self.mail.overdue(session, case, self.directory, now)
                escalated.append(case)
            return [self._detached(session, c) for c in escalated]

    def remind_before_deadlines(self, share: float) -> list[Notice]:
        """Remind the officer (else the head) of each open, unanswered case of which `share` of the time is used;
        once per case and deadline."""
        now = self.now()
        reminded = []
        with self._sessions.begin() as session:
            waiting = session.scalars(select(Case).where(
                Case.status == CaseStatus.OPEN, Case.state.in_((CaseState.NEW, CaseState.ASSIGNED)),
                Case.escalated_at.is_(None), Case.is_emergency.is_(False), Case.expected_datetime >= now))
            for case in waiting:
                requested, expected = _aware(case.requested_datetime), _aware(case.expected_datetime)
                if now >= requested + (expected - requested) * share:
                    reminded += self.mail.reminder(session, case, self.directory, now)
        return reminded

    def follow_up(self, *, service_request_id: str, text: str, key: str | None = None) -> Case:
        """The citizen wrote again about an open case with something new (not the reply the department waits for:
        `citizen_replied`): into the case's thread, and its officer (else its head) is told by e-mail, once per
        `key` (default: the thread's new event). The clock is not touched: nothing was asked."""
        with self._change(service_request_id, SYSTEM) as (session, case):
            event = self._event(session, case, Actor(CITIZEN), "citizen_follow_up", text.strip() or None, {})
            self.mail.follow_up(session, case, self.directory, text, key=key or f"event-{event.id}", now=self.now())
        return self.get(service_request_id)

    def status_asked(self, *, service_request_id: str, text: str) -> Case:
        """The citizen asked after an open case ("is it fixed yet?"); the assistant answers with its status. Noted in
        the case's thread, so that the officer sees the citizen is waiting; no e-mail."""
        with self._change(service_request_id, SYSTEM) as (session, case):
            self._event(session, case, Actor(CITIZEN), "status_asked", text.strip() or None, {})
        return self.get(service_request_id)

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

    def _department(self, case: Case) -> Department:
        return self.directory.department(case.agency_responsible)

    def _assign(self, case: Case, username: str) -> None:
        case.assignee = username
        if case.state == CaseState.NEW:
            case.state = CaseState.ASSIGNED

    def _check_seen(self, session: Session, case: Case, seen: str | EllipsisType | None) -> None:
        """CaseConflict when the case's assignee is no longer the one the person saw."""
        if seen is ... or (seen or None) == case.assignee:
            return
        last = session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                      CaseEvent.kind.in_(ASSIGNMENT_EVENTS))
                              .order_by(CaseEvent.id.desc()).limit(1))
        by = f" by {last.actor}" if last is not None else ""
        now_held = f"{case.assignee} has it" if case.assignee else "nobody has it"
        raise CaseConflict(f"the case changed hands since you opened it{by}: {now_held} now. Nothing was changed; "
                           "look again before you act")

    def _draft_for_review(self, case: Case, actor: Actor, draft_event_id: int | None) -> str:
        if not actor.can_review(case):
            raise CaseError("only the department's head, a supervisor or a reviewer approves or returns answers")
        if draft_event_id is not None and draft_event_id != case.draft_event_id:
            raise CaseConflict("the draft changed since you opened the page (replaced, returned or sent). Nothing "
                               "was done; read it again")
        if case.state != CaseState.IN_REVIEW or case.draft_text is None:
            raise CaseError("no draft answer waits for review")
        return case.draft_text

    def _resume_clock(self, case: Case) -> timedelta | None:
        """Run a stopped clock again from now, with the working time it had left; how long it stood still."""
        if case.paused_at is None:
            return None
        now = self.now()
        paused_for = now - case.paused_at
        case.paused_seconds = (case.paused_seconds or 0.0) + paused_for.total_seconds()
        case.expected_datetime = resumed_deadline(case.expected_datetime, paused_at=case.paused_at, resumed_at=now,
                                                  sla=SLA(case.sla), office_hours=self._department(case).hours,
                                                  calendar=self.calendar)
        case.paused_at = None
        return paused_for

    def _answer(self, session: Session, case: Case, event: CaseEvent, text: str, *, author: str) -> None:
        """The answer goes out to the citizen: the clock's first answer, the public answer, the outbox."""
        self._resume_clock(case)
        case.state = CaseState.ANSWERED
        case.status_notes = text
        case.answered_at = case.answered_at or self.now()
        case.draft_text = case.draft_by = case.draft_entry_id = None
        case.draft_event_id = None
        self._queue(session, case, event, f"{case.service_request_id}: {text}", author=author)

    @contextmanager
    def _change(self, service_request_id: str, actor: Actor,
                allow_closed: bool = False) -> Iterator[tuple[Session, Case]]:
        """A transaction on one open case the actor may see; stamps its updated_datetime."""
        with self._sessions.begin() as session:
            case = session.scalar(select(Case).where(Case.service_request_id == service_request_id.upper()))
            if case is None or not actor.can_see(case):
                raise LookupError(f"no case {service_request_id}")
            if case.status == CaseStatus.CLOSED and not allow_closed:
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
                                  author_role="system", text=text, case_id=case.service_request_id,
                                  account=case.account)

    def _queue(self, session: Session, case: Case, event: CaseEvent, text: str, *, author: str | None = None) -> None:
        """A staff message to the citizen: recorded in the transcript, then queued for their channel."""
        self.transcript.append_in(session, channel=case.channel, conversation_id=case.conversation_id,
                                  author_role="staff", author=author or event.actor, text=text,
                                  case_id=case.service_request_id, account=case.account)
        if case.channel == OPEN311_CHANNEL and case.email:  # an Open311 filer's channel is their e-mail address
            self.mail.answer_to_filer(session, case, event.text or text, key=f"event-{event.id}", now=self.now())
            return
        # the answer leaves from the account the citizen wrote to
        outbox.enqueue(session, key=f"event-{event.id}", channel=case.channel, conversation_id=case.conversation_id,
                       case_id=case.id, text=text, now=self.now(), account=case.account)

    @staticmethod
    def _detached(session: Session, case: Case) -> Case:
        _ = case.events  # load the history before the session closes
        session.expunge(case)
        return case


def _aware(moment: datetime) -> datetime:
    """SQLite gives back the stored UTC times without their zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
