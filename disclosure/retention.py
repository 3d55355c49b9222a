"""Retention: past the retention period every stored copy of a citizen's words goes, what statistics need stays.

Copies and what happens to them once older than the cutoff (an open case, its replies and decisions are kept):
- transcript_originals.text: blanked (NULL, removed_at, removed_reason); the chained public record stays whole.
- cases (closed, last updated before the cutoff): contact fields, address and location blanked; description and
  status notes replaced by the transcript's public view of the same message, else by REMOVED_TEXT; stamped
  `personal_data_removed_at`. Number, department, category, district, status, state and times stay.
- case_events of those cases: text replaced the same way; a shared location loses its coordinates.
- outbox (delivered, or given up on, before the cutoff): text replaced by REMOVED_TEXT; pending rows never.
- message_decisions: text replaced by the public view or REMOVED_TEXT, stamped `text_removed_at`; the route,
  reason, entry, confidence and case stay.
- inbound_messages (finished before the cutoff): text, its fingerprint and the shared location blanked; the
  platform message id, sender, times and state stay (de-duplication needs only those, and only for minutes).
- events (Rasa's SQL tracker store, in the same database when it is there): events older than the cutoff are
  deleted. They hold every message as written; the assistant needs only a conversation's recent ones, and the
  transcript is the record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, column, delete, func, inspect, not_, or_, select, table, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.dedupe import FINISHED_STATES
from connectors.models import InboundRecord
from handoff.models import Case, CaseEvent, CaseStatus, MessageDecision
from outbox.models import OutboxMessage
from privacy import REMOVED_TEXT
from transcripts.chain import sha256_text
from transcripts.log_models import RedactionLogRow, RetentionRun
from transcripts.models import TranscriptOriginal, TranscriptRecord
from transcripts.public_view import stored_public_view

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")
LOCATION_FIELDS = ("address", "lat", "long")

# Rasa's SQL tracker store (endpoints.yml): created by Rasa, not by our migrations; `timestamp` is Unix seconds
TRACKER_EVENTS = table("events", column("id"), column("timestamp"))
CHUNK = 200  # rows changed per round of queries (their texts' digests stay far below SQLite's parameter limit)


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    originals_removed: int
    first_record_id: int | None
    last_record_id: int | None
    cases_cleared: int
    first_case_id: str | None
    last_case_id: str | None
    case_events_cleared: int
    outbox_cleared: int
    decisions_cleared: int
    inbound_cleared: int
    tracker_events_removed: int
    run_id: int | None  # None on a dry run: nothing was changed or logged

    def counts(self) -> dict[str, int]:
        """How many rows of each kind were (or, on a dry run, would be) cleared."""
        return {"originals": self.originals_removed, "cases": self.cases_cleared,
                "case_events": self.case_events_cleared, "outbox": self.outbox_cleared,
                "decisions": self.decisions_cleared, "inbound": self.inbound_cleared,
                "tracker_events": self.tracker_events_removed}


def apply_retention(sessions: sessionmaker, *, retention_days: int, now: datetime,
                    dry_run: bool = False) -> RetentionReport:
    """Clear every copy of citizens' text older than the period (see the module); log the run with its counts.

    The run row is written before the changes (its counts come from the same selections) because the log is
    append-only; all of it is one transaction, so a failure leaves neither the changes nor the row.
    """
    if retention_days < 1:
        raise ValueError("the retention period is at least one day")
    cutoff = now - timedelta(days=retention_days)
    expired = _Selections(cutoff)
    with sessions.begin() as session:
        count, first, last = session.execute(
            select(func.count(), func.min(TranscriptOriginal.record_id), func.max(TranscriptOriginal.record_id))
            .where(expired.originals)).one()
        case_ids = [(row.id, row.service_request_id) for row in session.execute(
            select(Case.id, Case.service_request_id).where(expired.cases).order_by(Case.id))]
        decision_ids = list(session.scalars(select(MessageDecision.id).where(expired.decisions)
                                            .order_by(MessageDecision.id)))
        events = session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id.in_(select(Case.id).where(expired.cases)), _event_has_personal_data()))
        report = dict(cutoff=cutoff, originals_removed=count, first_record_id=first, last_record_id=last,
                      cases_cleared=len(case_ids), first_case_id=case_ids[0][1] if case_ids else None,
                      last_case_id=case_ids[-1][1] if case_ids else None, case_events_cleared=events,
                      outbox_cleared=_count(session, OutboxMessage, expired.outbox),
                      decisions_cleared=len(decision_ids),
                      inbound_cleared=_count(session, InboundRecord, expired.inbound),
                      tracker_events_removed=_count_tracker_events(session, cutoff))
        if dry_run:
            session.rollback()
            return RetentionReport(**report, run_id=None)
        run = RetentionRun(at=now, retention_days=retention_days, **report)
        session.add(run)
        session.flush()
        reason = f"retention: older than {retention_days} days (run {run.id})"
        _bulk(session, update(TranscriptOriginal).where(expired.originals)
              .values(text=None, removed_at=now, removed_reason=reason))
        for chunk in _chunks([case_id for case_id, _ in case_ids]):
            _clear_cases(session, chunk, now)
        for chunk in _chunks(decision_ids):
            _clear_decisions(session, chunk, now)
        _bulk(session, update(OutboxMessage).where(expired.outbox).values(text=REMOVED_TEXT))
        _bulk(session, update(InboundRecord).where(expired.inbound)
              .values(text=None, text_hash=None, lat=None, long=None))
        if report["tracker_events_removed"]:
            _bulk(session, delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.timestamp < cutoff.timestamp()))
        run_id = run.id
    return RetentionReport(**report, run_id=run_id)


def _count_tracker_events(session: Session, cutoff: datetime) -> int:
    """Rasa's tracker events older than the cutoff (0 when its tracker store is elsewhere)."""
    if not inspect(session.connection()).has_table("events"):
        return 0
    return session.scalar(select(func.count()).select_from(TRACKER_EVENTS)
                          .where(TRACKER_EVENTS.c.timestamp < cutoff.timestamp())) or 0


class _Selections:
    """The rows past the cutoff that still hold personal text, per kind: what a run counts and then clears."""

    def __init__(self, cutoff: datetime) -> None:
        open_cases = select(Case.id).where(Case.status != CaseStatus.CLOSED)
        self.originals = TranscriptOriginal.record_id.in_(
            select(TranscriptRecord.id).where(TranscriptRecord.at < cutoff)) & TranscriptOriginal.text.is_not(None)
        self.cases = and_(Case.status == CaseStatus.CLOSED, Case.updated_datetime < cutoff,
                          Case.personal_data_removed_at.is_(None))
        self.decisions = and_(MessageDecision.at < cutoff, MessageDecision.text_removed_at.is_(None),
                              _not_in_open_case(MessageDecision.case_id, open_cases))
        settled = or_(OutboxMessage.delivered_at < cutoff,
                      and_(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at < cutoff))
        self.outbox = and_(settled, OutboxMessage.text != REMOVED_TEXT,
                           _not_in_open_case(OutboxMessage.case_id, open_cases))
        # updated_at: the time it finished; a message still in progress (received, recorded) is never touched
        self.inbound = and_(InboundRecord.state.in_(FINISHED_STATES), InboundRecord.updated_at < cutoff,
                            or_(InboundRecord.text.is_not(None), InboundRecord.text_hash.is_not(None),
                                InboundRecord.lat.is_not(None), InboundRecord.long.is_not(None)))


def _not_in_open_case(case_id: Any, open_cases: Select) -> ColumnElement[bool]:
    return or_(case_id.is_(None), not_(case_id.in_(open_cases)))


def _event_has_personal_data() -> ColumnElement[bool]:
    return or_(CaseEvent.text.is_not(None), CaseEvent.kind == "location_added")


def _count(session: Session, model: type, where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(where)) or 0


def _bulk(session: Session, statement: Any) -> None:
    session.execute(statement, execution_options={"synchronize_session": False})


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _clear_cases(session: Session, case_ids: Sequence[int], now: datetime) -> None:
    with session.no_autoflush:
        cases = list(session.scalars(select(Case).where(Case.id.in_(case_ids))))
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids),
                                                              _event_has_personal_data())))
        of_event = {case.id: case for case in cases}
        noted_cases = [(case, case.status_notes) for case in cases if case.status_notes is not None]
        noted_events = [(event, event.text) for event in events if event.text is not None]
        wanted: list[tuple[str, Sequence[str]]] = [(c.conversation_id, (c.description,)) for c in cases]
        wanted += [(c.conversation_id, _staff_forms(c, notes)) for c, notes in noted_cases]
        wanted += [(of_event[e.case_id].conversation_id, _staff_forms(of_event[e.case_id], text))
                   for e, text in noted_events]
        copies = iter(public_copies(session, wanted))
        for case in cases:
            for name in CONTACT_FIELDS + LOCATION_FIELDS:
                setattr(case, name, None)
            case.description, case.personal_data_removed_at = next(copies), now
        for case, _ in noted_cases:
            case.status_notes = next(copies)
        for event, _ in noted_events:
            event.text = next(copies)
        for event in events:
            if event.kind == "location_added":
                event.data = {key: value for key, value in (event.data or {}).items() if key not in ("lat", "long")}
    session.flush()


def _clear_decisions(session: Session, decision_ids: Sequence[int], now: datetime) -> None:
    with session.no_autoflush:
        decisions = list(session.scalars(select(MessageDecision).where(MessageDecision.id.in_(decision_ids))))
        copies = public_copies(session, [(d.conversation_id, (d.text,)) for d in decisions])
        for decision, copy in zip(decisions, copies, strict=True):
            decision.text, decision.text_removed_at = copy, now
    session.flush()


def _staff_forms(case: Case, text: str) -> tuple[str, ...]:
    """A staff note as kept on the case, and as the citizen got it (and the transcript has it): after the number."""
    return text, f"{case.service_request_id}: {text}"


def public_copies(session: Session, wanted: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """For each (conversation id, texts), in order: what the public may read of that text, i.e. the public view of
    the conversation's latest record whose original is one of the texts (manual redactions applied, un-redactions
    lapsed as after retention), else REMOVED_TEXT. Two queries for the lot."""
    keys = [[(conversation, sha256_text(text)) for text in texts] for conversation, texts in wanted]
    records: dict[tuple[str, str], TranscriptRecord] = {}
    if wanted:
        for record in session.scalars(select(TranscriptRecord).where(
                TranscriptRecord.conversation_id.in_({conversation for conversation, _ in wanted}),
                TranscriptRecord.original_sha256.in_({digest for key in keys for _, digest in key}))
                .order_by(TranscriptRecord.id)):
            records[(record.conversation_id, record.original_sha256)] = record  # the latest wins
    logs: dict[int, list[RedactionLogRow]] = defaultdict(list)
    for row in session.scalars(select(RedactionLogRow).where(
            RedactionLogRow.record_id.in_([record.id for record in records.values()])).order_by(RedactionLogRow.id)):
        logs[row.record_id].append(row)
    copies = []
    for key in keys:
        found = [records[k] for k in key if k in records]
        latest = max(found, key=lambda r: r.id) if found else None
        copies.append(stored_public_view(latest.public_text, logs[latest.id]) if latest else REMOVED_TEXT)
    return copies
