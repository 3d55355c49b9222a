"""The e-mail notices of the hand-off procedure, written into the one outbox (outbox/mail.py sends them).

Who gets what:
- a new case (or one passed to another department): the department's head, and its officer if it has one;
- a case given to an officer by someone else (a head assigning it): that officer;
- an emergency: the duty officer, at once;
- a reminder, once `reminder_at` of a case's time is used and it is still unanswered: its officer, else the head;
- an overdue case: the department's head and the duty officer;
- a citizen's follow-up on an open case (new information, or the reply to the officer's question): its officer,
  else the head;
- a draft answer returned by the reviewer: the officer who drafted it;
- the public answer to an Open311 filer who left an e-mail address.
An officer's notices go to the address of their staff account (`citydesk staff edit --email`), else to their
username when it is an address; without either, the head's. Department and duty-officer addresses are the
directory's (handoff/departments.yml).
Each names the case number, quotes the citizen's message redacted (the one redactor, passed in) and links the case's
inbox page; each is queued once (its idempotency key), in the transaction of the change that caused it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handoff.directory import Department, Directory, Person
from handoff.models import Case, StaffUser
from outbox import store as outbox
from outbox.mail import CHANNEL, compose_text

BRAND = "[CityDesk]"
INBOX_CASE_PATH = "/inbox/cases/"
QUOTE_CHARS = 1_000
SUBJECT_SNIPPET_CHARS = 60


def address_in_username(username: str) -> str | None:
    """An officer's e-mail address when their account has none of its own: the username, if it is one."""
    return username if "@" in username and "." in username.rpartition("@")[2] else None


@dataclass(frozen=True)
class Notice:
    """One e-mail to queue: its idempotency key, recipient, subject and plain-text body."""

    key: str
    to: str
    subject: str
    body: str


class CaseMail:
    """Writes the notices of cases into the outbox; `redact` is the one redactor's public_text."""

    def __init__(self, *, redact: Callable[[str], str] | None = None, desk_url: str = "http://127.0.0.1:8000",
                 timezone: str = "UTC", city_name: str = "the city") -> None:
        self.redact = redact
        self.desk_url = desk_url.rstrip("/")
        self.timezone = timezone
        self.city_name = city_name

    @staticmethod
    def officer_email(session: Session, username: str) -> str | None:
        """Where an officer's notices go: their account's address, else their username if it is an address."""
        account = session.get(StaffUser, username)
        return (account.email if account is not None else None) or address_in_username(username)

    # --- what the procedure calls, inside its own transaction ---------------------------------------------------
    def new_case(self, session: Session, case: Case, directory: Directory, now: datetime) -> list[Notice]:
        """A case opened (or passed to another department): its head (and officer); an emergency: the duty officer."""
        department = _department(directory, case.agency_responsible)
        notices = []
        if case.is_emergency:
            notices.append(self._notice(
                f"mail-emergency-{case.id}", directory.duty_officer.email,
                self._titled(f"EMERGENCY {case.service_request_id} ({department.name})", case.description),
                f"An emergency was reported in case {case.service_request_id} on {case.channel}; "
                f"{department.name} has it.", case, directory,
                why="You get this e-mail as the duty officer."))
        kind = "EMERGENCY case" if case.is_emergency else "New case"
        recipients = [(department.head.email, "head of " + department.name)]
        if case.assignee and (officer := self.officer_email(session, case.assignee)):
            recipients.append((officer, "the officer of the case"))
        for address, role in recipients:
            who = "head" if role.startswith("head") else "officer"
            notices.append(self._notice(
                f"mail-new-{case.id}-{department.code}-{who}", address,
                self._titled(f"{kind} {case.service_request_id} for {department.name}", case.description),
                f"{kind} {case.service_request_id} for {department.name} ({case.sla}: "
                f"answer by {self._local(case.expected_datetime)}).", case, directory,
                why=f"You get this e-mail as {role}."))
        return self._queue(session, case, notices, now)

    def assigned(self, session: Session, case: Case, directory: Directory, now: datetime, *,
                 by: str) -> list[Notice]:
        """Someone else gave the case to its officer (a head assigning it): the officer, once per officer; an officer
        taking a case themselves needs no e-mail."""
        if not case.assignee or case.assignee == by or not (officer := self.officer_email(session, case.assignee)):
            return []
        department = _department(directory, case.agency_responsible)
        notice = self._notice(
            f"mail-assigned-{case.id}-{case.assignee}", officer,
            self._titled(f"Assigned to you: {case.service_request_id} ({department.name})", case.description),
            f"{by} assigned case {case.service_request_id} of {department.name} to you ({case.sla}: answer by "
            f"{self._local(case.expected_datetime)}).", case, directory,
            why="You get this e-mail as the officer of the case.")
        return self._queue(session, case, [notice], now)

    def moved_from(self, session: Session, case: Case, directory: Directory, now: datetime, *, previous: str,
                   by: str, reason: str | None) -> list[Notice]:
        """The case was taken from its officer (a take-over, or a head assigning it to someone else): that officer,
        so that nobody keeps working on a case that is no longer theirs. Not when they moved it themselves."""
        if previous == by or not (address := self.officer_email(session, previous)):
            return []
        department = _department(directory, case.agency_responsible)
        moved = f"case {case.service_request_id} of {department.name}, which you had"
        first = f"{by} took over {moved}." if case.assignee == by else f"{by} assigned {moved}, to {case.assignee}."
        if reason:
            first += f" The reason given: {reason}"
        notice = self._notice(
            f"mail-moved-{case.id}-{previous}-{_stamp(now)}", address,
            self._titled(f"No longer yours: {case.service_request_id} ({department.name})", case.description),
            first, case, directory, why="You get this e-mail as the case's officer until now.")
        return self._queue(session, case, [notice], now)

    def overdue(self, session: Session, case: Case, directory: Directory, now: datetime) -> list[Notice]:
        """A case past its deadline, unanswered: its department's head and the duty officer."""
        department = _department(directory, case.agency_responsible)
        due = self._local(case.expected_datetime)
        subject = f"Overdue: {case.service_request_id} for {department.name} (due {due})"
        first = f"Case {case.service_request_id} of {department.name} is overdue: its answer was due {due}."
        stamp = _stamp(case.expected_datetime)
        notices = [self._notice(f"mail-overdue-{case.id}-{stamp}-head", department.head.email, subject, first, case,
                                directory, why=f"You get this e-mail as head of {department.name}."),
                   self._notice(f"mail-overdue-{case.id}-{stamp}-duty", directory.duty_officer.email, subject, first,
                                case, directory, why="You get this e-mail as the duty officer.")]
        return self._queue(session, case, notices, now)

    def reminder(self, session: Session, case: Case, directory: Directory, now: datetime) -> list[Notice]:
        """Its deadline is near and it is unanswered: its officer, else its department's head."""
        department = _department(directory, case.agency_responsible)
        to, why = self._officer_or_head(session, case, department.head, department.name)
        due = self._local(case.expected_datetime)
        notice = self._notice(
            f"mail-reminder-{case.id}-{_stamp(case.expected_datetime)}", to,
            f"Reminder: {case.service_request_id} for {department.name} is due {due}",
            f"Case {case.service_request_id} of {department.name} is still unanswered; its answer is due {due}.",
            case, directory, why=why)
        return self._queue(session, case, [notice], now)

    def follow_up(self, session: Session, case: Case, directory: Directory, text: str, *, key: str,
                  now: datetime) -> list[Notice]:
        """The citizen wrote again about an open case: its officer, else its department's head."""
        department = _department(directory, case.agency_responsible)
        to, why = self._officer_or_head(session, case, department.head, department.name)
        notice = self._notice(
            f"mail-followup-{key}", to,
            self._titled(f"Follow-up on {case.service_request_id} ({department.name})", text),
            f"The citizen wrote again about case {case.service_request_id} of {department.name}:\n\n"
            f"{self._quote(text)}", case, directory, why=why, quote_description=False)
        return self._queue(session, case, [notice], now)

    def returned(self, session: Session, case: Case, directory: Directory, comment: str, *, by: str, key: str,
                 now: datetime) -> list[Notice]:
        """A reviewer returned a draft answer with a comment: the officer who drafted it (else the head)."""
        department = _department(directory, case.agency_responsible)
        drafted_by = case.draft_by or case.assignee
        officer = self.officer_email(session, drafted_by) if drafted_by else None
        to, why = ((officer, "You get this e-mail as the officer who drafted the answer.") if officer else
                   (department.head.email, f"You get this e-mail as head of {department.name} (the draft's officer "
                                           "has no address)."))
        notice = self._notice(
            f"mail-returned-{key}", to, f"Draft returned: {case.service_request_id} ({department.name})",
            f"{by} returned your draft answer to case {case.service_request_id} of {department.name}; the citizen "
            f"has received nothing yet. The reviewer's comment:\n\n{_quoted(comment)}\n\nYour draft:\n\n"
            f"{_quoted(case.draft_text or '')}", case, directory, why=why, quote_description=False)
        return self._queue(session, case, [notice], now)

    def answer_to_filer(self, session: Session, case: Case, text: str, *, key: str, now: datetime) -> list[Notice]:
        """Staff answered a request filed through Open311 with an e-mail address: the answer goes to that address."""
        if not case.email:
            return []
        body = (f"You reported a problem to {self.city_name} (request {case.service_request_id}). "
                f"The city's answer:\n\n{text.strip()}\n\n"
                f"Please quote {case.service_request_id} if you write to the city about it.")
        notice = Notice(key=key, to=case.email,
                        subject=f"Your request {case.service_request_id} to {self.city_name}: an answer", body=body)
        return self._queue(session, case, [notice], now)

    # --- composition ---------------------------------------------------------------------------------------------
    def case_link(self, case: Case) -> str:
        return f"{self.desk_url}{INBOX_CASE_PATH}{case.service_request_id}"

    def _notice(self, key: str, to: str, subject: str, first: str, case: Case, directory: Directory, *,
                why: str, quote_description: bool = True) -> Notice:
        lines = [first, ""]
        if quote_description:
            lines += [f"The citizen wrote ({case.channel}, personal data removed):", "",
                      self._quote(case.description), ""]
        facts = [("Category", case.service_name), ("District", case.district),
                 ("Received", self._local(case.requested_datetime)), ("Due", self._local(case.expected_datetime)),
                 ("Officer", case.assignee)]
        lines += [f"{label}: {value}" for label, value in facts if value]
        lines += ["", f"Open the case: {self.case_link(case)}", "",
                  f"-- CityDesk, {self.city_name}'s social-media desk. {why}"]
        return Notice(key=key, to=to, subject=f"{BRAND} {subject}", body="\n".join(lines))

    def _officer_or_head(self, session: Session, case: Case, head: Person, department: str) -> tuple[str, str]:
        officer = self.officer_email(session, case.assignee) if case.assignee else None
        if officer:
            return officer, "You get this e-mail as the officer of the case."
        return head.email, f"You get this e-mail as head of {department} (the case has no officer with an address)."

    def _public(self, text: str) -> str:
        return self.redact(text) if self.redact is not None else "(not quoted: open the case to read it)"

    def _quote(self, text: str) -> str:
        public = self._public(text)
        if len(public) > QUOTE_CHARS:
            public = public[:QUOTE_CHARS].rstrip() + " …"
        return "\n".join(f"> {line}".rstrip() for line in public.splitlines() or [""])

    def _titled(self, subject: str, text: str) -> str:
        """The subject, then the start of the citizen's (redacted) text: "New case CD-… for Roads: pothole on …"."""
        if self.redact is None:
            return subject
        flat = " ".join(self.redact(text).split())
        if len(flat) > SUBJECT_SNIPPET_CHARS:
            flat = flat[:SUBJECT_SNIPPET_CHARS].rstrip() + "…"
        return f"{subject}: {flat}" if flat else subject

    def _local(self, moment: datetime) -> str:
        local = _aware(moment).astimezone(ZoneInfo(self.timezone))
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"

    def _queue(self, session: Session, case: Case, notices: list[Notice], now: datetime) -> list[Notice]:
        """Queue each notice once; one address gets one e-mail per notice, however many roles it has."""
        queued, seen = [], set()
        for notice in notices:
            if notice.to.casefold() in seen:
                continue
            seen.add(notice.to.casefold())
            row = outbox.enqueue_once(session, key=notice.key, channel=CHANNEL, conversation_id=notice.to,
                                      text=compose_text(notice.subject, notice.body), now=now, case_id=case.id)
            if row is not None:
                queued.append(notice)
        return queued


def _department(directory: Directory, code: str) -> Department:
    """The case's department; the fallback department when the directory no longer has it (its head answers)."""
    try:
        return directory.department(code)
    except KeyError:
        return directory.department(directory.fallback_department)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back the stored UTC times without their zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _quoted(text: str) -> str:
    """Staff's own words (no citizen's data to redact), quoted."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines() or [""])


def _stamp(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).strftime("%Y%m%dT%H%M%S")
