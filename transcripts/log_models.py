"""The redaction log and the retention log: append-only rows beside the transcript (revision 0010)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base
from database.types import UTCDateTime

REDACT, UNREDACT = "redact", "unredact"


class RedactionLogRow(Base):
    """One manual redaction (staff) or un-redaction (supervisor) of one record; never changed afterwards.

    A manual redaction keeps the digest and length of the text it hides, not the text: the log must not become
    a second copy of what the citizen asked to hide. No digest: the whole record is hidden. An un-redaction names
    the automatic finding it reverts by its place in the original (and the digest of what is there).
    Automatic redactions have no rows: they are implied by the record (derived from the original while it is kept).
    """

    __tablename__ = "transcript_redactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(20))  # redact | unredact
    record_id: Mapped[int] = mapped_column(ForeignKey("transcript_records.id"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    text_length: Mapped[int | None] = mapped_column(Integer)
    finding_kind: Mapped[str | None] = mapped_column(String(30))
    original_start: Mapped[int | None] = mapped_column(Integer)
    original_end: Mapped[int | None] = mapped_column(Integer)


class RetentionRun(Base):
    """One run of `citydesk transcripts apply-retention`: what it removed, by kind, count and id range."""

    __tablename__ = "transcript_retention_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    retention_days: Mapped[int] = mapped_column(Integer)
    originals_removed: Mapped[int] = mapped_column(Integer)
    first_record_id: Mapped[int | None] = mapped_column(Integer)
    last_record_id: Mapped[int | None] = mapped_column(Integer)
    cases_cleared: Mapped[int] = mapped_column(Integer)
    first_case_id: Mapped[str | None] = mapped_column(String(40))
    last_case_id: Mapped[str | None] = mapped_column(String(40))
    # the other copies of citizens' text it cleared, per kind (revision 0011)
    case_events_cleared: Mapped[int] = mapped_column(Integer, default=0)
    outbox_cleared: Mapped[int] = mapped_column(Integer, default=0)
    decisions_cleared: Mapped[int] = mapped_column(Integer, default=0)
    inbound_cleared: Mapped[int] = mapped_column(Integer, default=0)
    tracker_events_removed: Mapped[int] = mapped_column(Integer, default=0)
