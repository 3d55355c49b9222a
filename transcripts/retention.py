"""Retention: originals (and closed cases' contact data) older than the retention period are removed, and logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import sessionmaker

from handoff.models import Case
from transcripts.log_models import RetentionRun
from transcripts.models import TranscriptOriginal, TranscriptRecord

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    originals_removed: int
    first_record_id: int | None
    last_record_id: int | None
    cases_cleared: int
    first_case_id: str | None
    last_case_id: str | None
    run_id: int | None  # None on a dry run: nothing was changed or logged


def apply_retention(sessions: sessionmaker, *, retention_days: int, now: datetime,
                    dry_run: bool = False) -> RetentionReport:
    """Blank the originals of records older than the period; the public records, and so the chain, stay as written.

    Closed cases last updated before the cutoff lose their contact fields (the citizen's name, e-mail, phone and
    channel ids): they were kept only to answer, and the answer is given. Open cases keep them.
    """
    if retention_days < 1:
        raise ValueError("the retention period is at least one day")
    cutoff = now - timedelta(days=retention_days)
    expiring = (select(TranscriptOriginal.record_id)
                .join(TranscriptRecord, TranscriptRecord.id == TranscriptOriginal.record_id)
                .where(TranscriptRecord.at < cutoff, TranscriptOriginal.text.is_not(None)))
    has_contact = or_(*(getattr(Case, name).is_not(None) for name in CONTACT_FIELDS))
    closing = and_(Case.status == "closed", Case.updated_datetime < cutoff, has_contact)
    with sessions.begin() as session:
        count, first, last = session.execute(
            select(func.count(), func.min(TranscriptOriginal.record_id), func.max(TranscriptOriginal.record_id))
            .where(TranscriptOriginal.record_id.in_(expiring))).one()
        case_ids = list(session.scalars(select(Case.service_request_id).where(closing).order_by(Case.id)))
        report = dict(cutoff=cutoff, originals_removed=count, first_record_id=first, last_record_id=last,
                      cases_cleared=len(case_ids), first_case_id=case_ids[0] if case_ids else None,
                      last_case_id=case_ids[-1] if case_ids else None)
        if dry_run:
            session.rollback()
            return RetentionReport(**report, run_id=None)
        run = RetentionRun(at=now, retention_days=retention_days, **report)
        session.add(run)
        session.flush()
        session.execute(update(TranscriptOriginal).where(TranscriptOriginal.record_id.in_(expiring))
                        .values(text=None, removed_at=now,
                                removed_reason=f"retention: older than {retention_days} days (run {run.id})"),
                        execution_options={"synchronize_session": False})
        session.execute(update(Case).where(closing).values(**{name: None for name in CONTACT_FIELDS}),
                        execution_options={"synchronize_session": False})
    return RetentionReport(**report, run_id=run.id)
