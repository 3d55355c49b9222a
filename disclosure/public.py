"""Public disclosure: conversations and their cases in public form, filtered, paged and streamed for export."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.directory import Directory
from handoff.models import Case, CaseStatus
from knowledge_base.store import EntryRow
from privacy import Redactor
from settings import Settings
from transcripts.log_models import UNREDACT, RedactionLogRow
from transcripts.models import TranscriptOriginal, TranscriptRecord
from transcripts.pseudonyms import PSEUDONYM, pseudonym
from transcripts.public_view import Redact, public_view

STATUSES = {"answered_automatically": "Answered automatically", "case_open": "Case open",
            "case_answered": "Case answered", "closed": "Closed"}
PAGE_SIZE = 20
MAX_QUERY_CHARS = 200
EXPORT_BATCH = 200  # conversations whose messages are read in one query
# A button pressed is recorded as its payload ('/choose_entry{"kb_entry_id":"demo-0001"}', '/none_of_these'); the
# public reads the title of the button instead, from the reply that offered it (its transcript meta "buttons").
BUTTON_PAYLOAD = re.compile(r"^/[A-Za-z_][\w-]*(\{.*\})?$", re.DOTALL)
CHOSE_AN_OPTION = "(chose an option)"  # a payload whose button is no longer known


class DisclosureError(ValueError):
    """A filter the disclosure refuses, with the reason."""


@dataclass(frozen=True)
class DisclosureFilter:
    q: str = ""
    department: str | None = None
    topic: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        if len(self.q) > MAX_QUERY_CHARS:
            raise DisclosureError(f"a search is at most {MAX_QUERY_CHARS} characters")
        if self.status and self.status not in STATUSES:
            raise DisclosureError(f"unknown status {self.status!r}; one of: {', '.join(STATUSES)}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise DisclosureError("the date range ends before it starts")


@dataclass(frozen=True)
class PublicCase:
    service_request_id: str
    department: str
    department_name: str
    category: str | None
    status: str  # Open311: open | closed
    state: str
    requested_datetime: datetime
    expected_datetime: datetime


@dataclass(frozen=True)
class PublicMessage:
    at: datetime
    role: str
    text: str
    entry_id: str | None
    entry_version: int | None
    case_id: str | None


@dataclass
class ConversationSummary:
    conversation_id: str  # internal: never published
    id: str  # the pseudonym
    channel: str
    first_at: datetime
    last_at: datetime
    message_count: int
    cases: list[PublicCase] = field(default_factory=list)
    departments: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        if not self.cases:
            return "answered_automatically"
        latest = max(self.cases, key=lambda c: c.requested_datetime)
        if latest.status == CaseStatus.CLOSED:
            return "closed"
        return "case_answered" if latest.state == "answered" else "case_open"

    @property
    def open_case(self) -> PublicCase | None:
        """The pending case, if any: its status and expected date are published with the conversation."""
        pending = [c for c in self.cases if c.status != CaseStatus.CLOSED]
        return max(pending, key=lambda c: c.requested_datetime) if pending else None


@dataclass(frozen=True)
class PublicConversation:
    summary: ConversationSummary
    messages: tuple[PublicMessage, ...]


@dataclass(frozen=True)
class Page:
    items: tuple[PublicConversation, ...]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


class Disclosure:
    """What the public may read: records older than the delay, in their public view, under pseudonyms."""

    def __init__(self, sessions: sessionmaker, *, pseudonym_key: str, delay_hours: float,
                 redact: Redact, department_names: dict[str, str] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._key = pseudonym_key
        self.delay = timedelta(hours=delay_hours)
        self.department_names = department_names or {}
        # entries name their department ("Public Works"), cases give its code ("public-works"): one key, the code
        self._codes = {name.casefold(): code for code, name in self.department_names.items()}
        self._redact = redact
        self._clock = clock

    def pseudonym(self, conversation_id: str) -> str:
        return pseudonym(self._key, conversation_id)

    def department_code(self, department: str) -> str:
        """The directory's code for a department given by code or by name; unknown ones as they are."""
        if department in self.department_names:
            return department
        return self._codes.get(department.casefold(), department)

    def cutoff(self) -> datetime:
        """Records written after this are not published yet."""
        return self._clock() - self.delay

    def summaries(self, filters: DisclosureFilter = DisclosureFilter()) -> list[ConversationSummary]:
        """Every published conversation that passes the filters, newest activity first (a stable order)."""
        cutoff = self.cutoff()
        with self._sessions() as session:
            summaries = self._all_summaries(session, cutoff)
            if filters.q.strip():
                matching = self._search(session, cutoff, filters.q.strip(), summaries)
                summaries = {c: s for c, s in summaries.items() if c in matching}
        chosen = [s for s in summaries.values() if _passes(s, filters)]
        chosen.sort(key=lambda s: (s.last_at, s.conversation_id), reverse=True)
        return chosen

    def page(self, filters: DisclosureFilter = DisclosureFilter(), number: int = 1,
             size: int = PAGE_SIZE) -> Page:
        chosen = self.summaries(filters)
        number = max(1, number)
        window = chosen[(number - 1) * size:number * size]
        return Page(items=tuple(self._with_messages(window)), total=len(chosen), number=number, size=size)

    def conversation(self, public_id: str) -> PublicConversation | None:
        """One published conversation by its pseudonym; None when there is none (or it is not published yet)."""
        if not PSEUDONYM.match(public_id):
            return None
        cutoff = self.cutoff()
        with self._sessions() as session:
            published = session.scalars(select(TranscriptRecord.conversation_id).distinct()
                                        .where(TranscriptRecord.at <= cutoff))
            conversation_id = next((c for c in published if self.pseudonym(c) == public_id), None)
            if conversation_id is None:
                return None
            summaries = list(self._all_summaries(session, cutoff, only=conversation_id).values())
        return next(iter(self._with_messages(summaries)))

    def stream(self, filters: DisclosureFilter = DisclosureFilter(),
               chosen: list[ConversationSummary] | None = None) -> Iterator[PublicConversation]:
        """Every matching conversation (or those `chosen` by `summaries`) with its messages, read in batches."""
        chosen = self.summaries(filters) if chosen is None else chosen
        for start in range(0, len(chosen), EXPORT_BATCH):
            yield from self._with_messages(chosen[start:start + EXPORT_BATCH])

    def options(self) -> dict[str, list[str]]:
        """The departments and topics that published conversations have: the filters' choices."""
        with self._sessions() as session:
            summaries = self._all_summaries(session, self.cutoff()).values()
        return {"departments": sorted({d for s in summaries for d in s.departments}),
                "topics": sorted({t for s in summaries for t in s.topics})}

    def _all_summaries(self, session: Session, cutoff: datetime,
                       only: str | None = None) -> dict[str, ConversationSummary]:
        """Every published conversation's summary (or only one's): four queries, whatever the number."""
        R = TranscriptRecord
        published = [R.at <= cutoff] + ([R.conversation_id == only] if only is not None else [])
        summaries = {cid: ConversationSummary(conversation_id=cid, id=self.pseudonym(cid), channel=channel,
                                              first_at=first, last_at=last, message_count=count)
                     for cid, channel, first, last, count in session.execute(
                         select(R.conversation_id, func.min(R.channel), func.min(R.at), func.max(R.at), func.count())
                         .where(*published).group_by(R.conversation_id))}
        opened = [Case.requested_datetime <= cutoff] + ([Case.conversation_id == only] if only is not None else [])
        for case in session.execute(select(Case.conversation_id, Case.service_request_id, Case.agency_responsible,
                                           Case.service_name, Case.service_code, Case.status, Case.state,
                                           Case.requested_datetime, Case.expected_datetime)
                                    .where(*opened)):
            summary = summaries.get(case.conversation_id)
            if summary is None:
                continue
            category = case.service_name or case.service_code
            summary.cases.append(PublicCase(
                service_request_id=case.service_request_id, department=case.agency_responsible,
                department_name=self.department_names.get(case.agency_responsible, case.agency_responsible),
                category=category, status=case.status, state=case.state,
                requested_datetime=case.requested_datetime, expected_datetime=case.expected_datetime))
            summary.departments.add(case.agency_responsible)
            if category:
                summary.topics.add(category)
        entries = {e.id: e for e in session.execute(select(EntryRow.id, EntryRow.department, EntryRow.topic))}
        for cid, entry_id in session.execute(select(R.conversation_id, R.entry_id).distinct()
                                             .where(*published, R.entry_id.is_not(None))):
            entry, summary = entries.get(entry_id), summaries.get(cid)
            if entry is None or summary is None:
                continue
            if entry.department:
                summary.departments.add(self.department_code(entry.department))
            if entry.topic:
                summary.topics.add(entry.topic)
        return summaries

    def _search(self, session: Session, cutoff: datetime, q: str,
                summaries: dict[str, ConversationSummary]) -> set[str]:
        R = TranscriptRecord
        found = set(session.scalars(select(R.conversation_id).distinct()
                                    .where(R.at <= cutoff, R.public_text.icontains(q, autoescape=True))))
        # where the log changed the public view, the stored text may say more (or less) than the public: recheck
        logged = set(session.scalars(select(RedactionLogRow.conversation_id).distinct()))
        recheck = [summaries[c] for c in logged if c in summaries]
        found -= logged
        needle = q.casefold()
        found |= {c.summary.conversation_id for c in self._with_messages(recheck)
                  if any(needle in m.text.casefold() for m in c.messages)}
        return found

    def _with_messages(self, summaries: list[ConversationSummary]) -> Iterator[PublicConversation]:
        if not summaries:
            return iter(())
        ids = [s.conversation_id for s in summaries]
        R = TranscriptRecord
        with self._sessions() as session:
            records = session.execute(select(R.id, R.conversation_id, R.at, R.author_role, R.public_text,
                                             R.entry_id, R.entry_version, R.case_id, R.meta)
                                      .where(R.conversation_id.in_(ids), R.at <= self.cutoff())
                                      .order_by(R.id)).all()
            log: dict[int, list[RedactionLogRow]] = {}
            for row in session.scalars(select(RedactionLogRow).where(RedactionLogRow.conversation_id.in_(ids))
                                       .order_by(RedactionLogRow.id)):
                log.setdefault(row.record_id, []).append(row)
            revealing = [rid for rid, rows in log.items() if any(r.action == UNREDACT for r in rows)]
            originals = {rid: text for rid, text in session.execute(
                select(TranscriptOriginal.record_id, TranscriptOriginal.text)
                .where(TranscriptOriginal.record_id.in_(revealing)))}
        messages: dict[str, list[PublicMessage]] = {cid: [] for cid in ids}
        offered: dict[str, dict[str, str]] = {cid: {} for cid in ids}  # payload -> title of the buttons offered
        for r in records:
            text = (public_view(r.public_text, originals.get(r.id), log[r.id], redact=self._redact)
                    if r.id in log else r.public_text)
            if r.author_role == "bot":
                for button in (r.meta or {}).get("buttons") or []:
                    if button.get("payload") and button.get("title"):
                        title = self._redact(str(button["title"]))
                        offered[r.conversation_id][str(button["payload"])] = title
                        offered[r.conversation_id][self._redact(str(button["payload"]))] = title
            elif r.author_role == "citizen" and BUTTON_PAYLOAD.match(text):
                text = offered[r.conversation_id].get(text, CHOSE_AN_OPTION)
            messages[r.conversation_id].append(PublicMessage(at=r.at, role=r.author_role, text=text,
                                                             entry_id=r.entry_id, entry_version=r.entry_version,
                                                             case_id=r.case_id))
        return (PublicConversation(summary=s, messages=tuple(messages[s.conversation_id])) for s in summaries)


def _passes(summary: ConversationSummary, filters: DisclosureFilter) -> bool:
    if filters.department and filters.department not in summary.departments:
        return False
    if filters.topic and filters.topic not in summary.topics:
        return False
    if filters.status and summary.status != filters.status:
        return False
    if filters.date_from and summary.last_at < datetime.combine(filters.date_from, time.min, UTC):
        return False
    return not (filters.date_to and summary.first_at >= datetime.combine(filters.date_to + timedelta(days=1),
                                                                           time.min, UTC))


def build_disclosure(settings: Settings, sessions: sessionmaker, directory: Directory,
                     redactor: Redactor) -> Disclosure:
    """The disclosure as the settings configure it (delay, pseudonym key) with the directory's department names."""
    return Disclosure(sessions, pseudonym_key=settings.resolved_pseudonym_key,
                      delay_hours=settings.disclosure_delay_hours, redact=redactor.public_text,
                      department_names={d.code: d.name for d in directory.departments})


def make_filter(*, q: str | None = None, department: str | None = None, topic: str | None = None,
                status: str | None = None, date_from: str | None = None,
                date_to: str | None = None) -> DisclosureFilter:
    """The filters from query strings ('' means none); DisclosureError says what is wrong."""
    return DisclosureFilter(q=(q or "").strip(), department=department or None, topic=topic or None,
                            status=status or None, date_from=_date(date_from, "from"), date_to=_date(date_to, "to"))


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DisclosureError(f"the date {name} is not a date (YYYY-MM-DD): {value!r}") from None
