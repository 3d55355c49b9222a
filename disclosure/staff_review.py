"""Staff access to originals, manual redaction (staff) and un-redaction (supervisors), each logged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff.models import Case, Role
from handoff.service import Actor
from privacy import Redactor
from transcripts.log_models import REDACT, UNREDACT, RedactionLogRow
from transcripts.models import TranscriptOriginal, TranscriptRecord
from transcripts.public_view import public_view, span_digest, text_digest

MAX_REASON_CHARS = 1_000


class TranscriptNotFound(LookupError):
    """No such conversation or record."""


class OriginalsRefused(PermissionError):
    """The user may not read this conversation's originals or change its redactions."""


class RedactionRefused(ValueError):
    """A redaction or un-redaction the desk refuses, with the reason; nothing was written."""


@dataclass(frozen=True)
class AutomaticFinding:
    kind: str
    start: int
    end: int
    text: str  # from the original: staff eyes only
    revealed: bool


@dataclass(frozen=True)
class StaffRecord:
    record: TranscriptRecord
    original: str | None
    original_removed: str | None  # why the original is gone (retention), if it is
    public: str
    findings: tuple[AutomaticFinding, ...]
    log: tuple[RedactionLogRow, ...]


@dataclass(frozen=True)
class StaffTranscript:
    conversation_id: str
    cases: tuple[Case, ...]
    records: tuple[StaffRecord, ...]
    log: tuple[RedactionLogRow, ...]


def may_read_originals(actor: Actor | None, cases: list[Case] | tuple[Case, ...]) -> TypeGuard[Actor]:
    """Supervisors: every conversation. Department staff: those with a case in their department. Nobody else."""
    if actor is None or actor.role not in (Role.STAFF, Role.SUPERVISOR):
        return False
    return actor.role == Role.SUPERVISOR or any(actor.can_see(case) for case in cases)


class TranscriptDesk:
    """The staff side of the transcript: one conversation with its originals, and the redaction log."""

    def __init__(self, sessions: sessionmaker, *, redactor: Redactor,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._redactor = redactor
        self._clock = clock

    def automatic_findings(self, original: str) -> list[tuple[str, int, int]]:
        """What the redactor finds in an original: the automatic redactions, derived rather than logged."""
        return [(f.kind, f.start, f.end) for f in self._redactor.find(original)]

    def conversation(self, actor: Actor | None, conversation_id: str) -> StaffTranscript:
        """The conversation with its originals. Another department's is "not found", as one that does not exist:
        its existence is not for them to learn. Who reads no originals at all is refused before anything is looked up.
        """
        self._staff_only(actor)
        with self._sessions() as session:
            records = list(session.scalars(select(TranscriptRecord).where(
                TranscriptRecord.conversation_id == conversation_id).order_by(TranscriptRecord.id)))
            cases = self._cases(session, conversation_id) if records else []
            if not records or not may_read_originals(actor, cases):
                raise TranscriptNotFound(f"there is no conversation {conversation_id!r}")
            ids = [r.id for r in records]
            originals = {o.record_id: o for o in session.scalars(
                select(TranscriptOriginal).where(TranscriptOriginal.record_id.in_(ids)))}
            log = list(session.scalars(select(RedactionLogRow).where(
                RedactionLogRow.conversation_id == conversation_id).order_by(RedactionLogRow.id)))
        staff_records = tuple(self._staff_record(r, originals.get(r.id), [x for x in log if x.record_id == r.id])
                              for r in records)
        return StaffTranscript(conversation_id=conversation_id, cases=tuple(cases), records=staff_records,
                               log=tuple(log))

    def redact(self, actor: Actor | None, *, record_id: int, reason: str, text: str = "",
               whole_record: bool = False) -> RedactionLogRow:
        """Hide `text` (every occurrence, any case) or the whole record from the public view, on request."""
        reason = self._reason(reason)
        with self._sessions.begin() as session:
            reader, record, original, log = self._load(session, actor, record_id)
            if whole_record:
                digest, length = None, None
            else:
                if not text.strip():
                    raise RedactionRefused("give the exact text to hide, or choose to hide the whole message")
                current = public_view(record.public_text, original.text if original else None, log,
                                      redact=self._redactor.public_text)
                if text_digest(text) not in {text_digest(current[i:i + len(text)])
                                             for i in range(len(current) - len(text) + 1)}:
                    raise RedactionRefused(f"the public text of message {record_id} does not contain that text "
                                           "(copy it exactly from the public text)")
                digest, length = text_digest(text), len(text)
            row = RedactionLogRow(at=self._clock(), action=REDACT, record_id=record_id,
                                  conversation_id=record.conversation_id, actor=reader.username,
                                  actor_role=reader.role, reason=reason, text_sha256=digest, text_length=length)
            session.add(row)
        return row

    def unredact(self, actor: Actor | None, *, record_id: int, start: int, end: int, reason: str) -> RedactionLogRow:
        """Publish one automatically redacted span of the original; supervisors only, while the original is kept."""
        reason = self._reason(reason)
        if actor is None or actor.role != Role.SUPERVISOR:
            raise OriginalsRefused("un-redacting needs a supervisor")
        with self._sessions.begin() as session:
            _, record, original, _ = self._load(session, actor, record_id)
            if original is None or original.text is None:
                raise RedactionRefused(f"the original of message {record_id} was removed (retention); nothing can "
                                       "be un-redacted any more")
            match = [f for f in self.automatic_findings(original.text) if (f[1], f[2]) == (start, end)]
            if not match:
                raise RedactionRefused(f"message {record_id} has no automatic redaction at {start}-{end}")
            row = RedactionLogRow(at=self._clock(), action=UNREDACT, record_id=record_id,
                                  conversation_id=record.conversation_id, actor=actor.username,
                                  actor_role=actor.role, reason=reason,
                                  text_sha256=span_digest(original.text[start:end]), text_length=end - start,
                                  finding_kind=match[0][0], original_start=start, original_end=end)
            session.add(row)
        return row

    def _staff_record(self, record: TranscriptRecord, original: TranscriptOriginal | None,
                      log: list[RedactionLogRow]) -> StaffRecord:
        text = original.text if original else None
        revealed = {(x.original_start, x.original_end) for x in log if x.action == UNREDACT}
        findings = tuple(AutomaticFinding(kind, s, e, text[s:e], (s, e) in revealed)
                         for kind, s, e in self.automatic_findings(text)) if text else ()
        return StaffRecord(record=record, original=text,
                           original_removed=original.removed_reason if original and text is None else None,
                           public=public_view(record.public_text, text, log, redact=self._redactor.public_text),
                           findings=findings, log=tuple(log))

    def _load(self, session: Session, actor: Actor | None,
              record_id: int) -> tuple[Actor, TranscriptRecord, TranscriptOriginal | None, list[RedactionLogRow]]:
        """The actor, who may read the record's originals, the record, its original and its redaction log."""
        self._staff_only(actor)
        record = session.get(TranscriptRecord, record_id)
        # another department's message is "not found", as one that does not exist
        if record is None or not may_read_originals(actor, self._cases(session, record.conversation_id)):
            raise TranscriptNotFound(f"there is no message {record_id}")
        log = list(session.scalars(select(RedactionLogRow).where(RedactionLogRow.record_id == record_id)
                                   .order_by(RedactionLogRow.id)))
        return actor, record, session.get(TranscriptOriginal, record_id), log

    @staticmethod
    def _cases(session: Session, conversation_id: str) -> list[Case]:
        return list(session.scalars(select(Case).where(Case.conversation_id == conversation_id)
                                    .order_by(Case.id)))

    @staticmethod
    def _reason(reason: str) -> str:
        reason = (reason or "").strip()
        if not reason:
            raise RedactionRefused("give the reason (for the log): e.g. the citizen's request and its date")
        if len(reason) > MAX_REASON_CHARS:
            raise RedactionRefused(f"a reason is at most {MAX_REASON_CHARS} characters")
        return reason

    @staticmethod
    def _staff_only(actor: Actor | None) -> None:
        if actor is None or actor.role not in (Role.STAFF, Role.SUPERVISOR):
            raise OriginalsRefused("originals are for department staff and supervisors")
