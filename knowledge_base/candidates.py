"""Candidate phrasings: questions resolved for an entry, redacted, and the conversations that confirmed them.

The tables and their store; what is learned from them, and when a candidate becomes a phrasing, is
knowledge_base/learning.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from database import Base
from database.types import UTCDateTime
from knowledge_base.lifecycle import EntryError

_PUNCTUATION = re.compile(r"[^\w\s\[\]]+", re.UNICODE)


class Source(StrEnum):
    """Who resolved a question for an entry."""

    CLARIFICATION = "clarification"  # a citizen chose the entry among those offered
    CONFIRM = "confirm"  # a citizen answered "Yes" to "Did this answer your question?"
    HELPFUL = "helpful"  # a citizen voted the entry's answer helpful
    STAFF = "staff"  # a staff member answered the citizen's case with the entry
    EDITOR = "editor"  # an editor linked an unanswered question to the entry


CITIZEN_SOURCES = frozenset({Source.CLARIFICATION, Source.CONFIRM, Source.HELPFUL})
DEFAULT_TRUSTED = frozenset({Source.STAFF, Source.EDITOR})


class CandidateState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CandidateRow(Base):
    """A question resolved for an entry, redacted: a candidate phrasing of the entry."""

    __tablename__ = "kb_phrasing_candidates"
    __table_args__ = (UniqueConstraint("entry_id", "text_key", name="uq_kb_phrasing_candidates_entry_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(200), index=True)
    text: Mapped[str] = mapped_column(Text)
    text_key: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(20), index=True, default=CandidateState.PENDING)
    confirmations: Mapped[int] = mapped_column(Integer, default=0)  # separate conversations that resolved it
    rejections: Mapped[int] = mapped_column(Integer, default=0)  # separate conversations that said "No"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    entry_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the version that added it


class ConfirmationRow(Base):
    """One conversation's resolution of a candidate (or its "No"): one per conversation and candidate."""

    __tablename__ = "kb_phrasing_confirmations"
    __table_args__ = (UniqueConstraint("candidate_id", "conversation_id",
                                       name="uq_kb_phrasing_confirmations_candidate_conversation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(Integer, ForeignKey("kb_phrasing_candidates.id"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    confirmed: Mapped[bool] = mapped_column(default=True)  # False: the citizen said the answer was not right
    at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Candidate:
    """A candidate phrasing as editors see it."""

    id: int
    entry_id: str
    text: str
    state: CandidateState
    confirmations: int
    rejections: int
    sources: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    decided_by: str | None = None
    entry_version: int | None = None


def text_key(text: str) -> str:
    """What makes two questions the same phrasing: their words, whatever the case, punctuation and spacing."""
    return " ".join(_PUNCTUATION.sub(" ", text.casefold()).split())[:1000]


class CandidateStore:
    """Candidates and their confirmations in the database; every write is one transaction."""

    def __init__(self, sessions: sessionmaker, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._clock = clock

    def add(self, *, entry_id: str, text: str, conversation_id: str, source: Source,
            confirmed: bool = True) -> Candidate:
        """Record one conversation's resolution (or "No") of `text` for the entry; a repeat is no change."""
        try:
            return self._add(entry_id, text, conversation_id, source, confirmed)
        except IntegrityError:  # the same candidate created at the same moment: it exists now
            return self._add(entry_id, text, conversation_id, source, confirmed)

    def _add(self, entry_id: str, text: str, conversation_id: str, source: Source, confirmed: bool) -> Candidate:
        now, key = self._clock(), text_key(text)
        with self._sessions.begin() as session:
            row = session.scalar(select(CandidateRow).where(CandidateRow.entry_id == entry_id,
                                                            CandidateRow.text_key == key))
            if row is None:
                row = CandidateRow(entry_id=entry_id, text=text, text_key=key, state=CandidateState.PENDING,
                                   confirmations=0, rejections=0, created_at=now, updated_at=now)
                session.add(row)
                session.flush()
            seen = session.scalar(select(ConfirmationRow).where(ConfirmationRow.candidate_id == row.id,
                                                                ConfirmationRow.conversation_id == conversation_id))
            if seen is None:
                session.add(ConfirmationRow(candidate_id=row.id, conversation_id=conversation_id, source=source,
                                            confirmed=confirmed, at=now))
                if confirmed:
                    row.confirmations += 1
                else:
                    row.rejections += 1
                row.updated_at = now
            session.flush()
            return self._candidate(session, row)

    def get(self, candidate_id: int) -> Candidate:
        with self._sessions() as session:
            row = session.get(CandidateRow, candidate_id)
            if row is None:
                raise EntryError(f"no candidate phrasing {candidate_id}")
            return self._candidate(session, row)

    def page(self, *, state: CandidateState | None = CandidateState.PENDING, entry_id: str | None = None,
             limit: int = 100, offset: int = 0) -> tuple[list[Candidate], int]:
        """One page of candidates, most confirmed first, and how many match in all."""
        query = select(CandidateRow)
        if state is not None:
            query = query.where(CandidateRow.state == state)
        if entry_id is not None:
            query = query.where(CandidateRow.entry_id == entry_id)
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(CandidateRow.confirmations.desc(), CandidateRow.updated_at.desc(),
                                                  CandidateRow.id).limit(limit).offset(offset))
            return [self._candidate(session, row) for row in rows], total

    def confirmed_pending(self) -> list[tuple[str, str]]:
        """(text, entry id) of the pending candidates confirmed more often than rejected."""
        with self._sessions() as session:
            return [(text, entry_id) for text, entry_id in session.execute(
                select(CandidateRow.text, CandidateRow.entry_id).where(
                    CandidateRow.state == CandidateState.PENDING,
                    CandidateRow.confirmations > CandidateRow.rejections).order_by(CandidateRow.id))]

    def decide(self, candidate_ids: Iterable[int], state: CandidateState, *, editor: str,
               versions: dict[int, int] | None = None) -> None:
        now = self._clock()
        with self._sessions.begin() as session:
            for candidate_id in candidate_ids:
                row = session.get(CandidateRow, candidate_id)
                if row is None:
                    continue
                row.state, row.decided_at, row.decided_by, row.updated_at = state, now, editor, now
                if versions and candidate_id in versions:
                    row.entry_version = versions[candidate_id]

    @staticmethod
    def _candidate(session: Session, row: CandidateRow) -> Candidate:
        sources = tuple(sorted(set(session.scalars(select(ConfirmationRow.source).where(
            ConfirmationRow.candidate_id == row.id, ConfirmationRow.confirmed.is_(True))))))
        return Candidate(id=row.id, entry_id=row.entry_id, text=row.text, state=CandidateState(row.state),
                         confirmations=row.confirmations, rejections=row.rejections, sources=sources,
                         created_at=row.created_at, updated_at=row.updated_at, decided_by=row.decided_by,
                         entry_version=row.entry_version)
