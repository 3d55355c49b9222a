"""'Was this helpful?' votes on the knowledge base's answers: one vote per conversation and entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from database import Base
from database.types import UTCDateTime


class FeedbackRow(Base):
    """A citizen's vote on an answer; a second vote in the same conversation on the same entry replaces it."""

    __tablename__ = "kb_feedback"
    __table_args__ = (UniqueConstraint("entry_id", "conversation_id", name="uq_kb_feedback_entry_conversation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(200), index=True)
    entry_version: Mapped[int | None] = mapped_column(Integer)
    conversation_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(30))
    helpful: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class FeedbackCounts:
    """The votes on one entry."""

    entry_id: str
    helpful: int
    unhelpful: int
    last_vote: datetime | None

    @property
    def total(self) -> int:
        return self.helpful + self.unhelpful

    @property
    def unhelpful_share(self) -> float:
        return self.unhelpful / self.total if self.total else 0.0


class FeedbackStore:
    """Records votes and counts them per entry."""

    def __init__(self, sessions: sessionmaker, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._clock = clock

    def record(self, *, entry_id: str, entry_version: int | None, conversation_id: str, channel: str | None,
               helpful: bool) -> int:
        """Store a vote (replacing this conversation's earlier vote on the entry); its id."""
        try:
            return self._record(entry_id, entry_version, conversation_id, channel, helpful)
        except IntegrityError:  # the same vote arrived twice at once: the first is in, now replace it
            return self._record(entry_id, entry_version, conversation_id, channel, helpful)

    def _record(self, entry_id: str, entry_version: int | None, conversation_id: str, channel: str | None,
                helpful: bool) -> int:
        with self._sessions.begin() as session:
            row = session.scalar(select(FeedbackRow).where(FeedbackRow.entry_id == entry_id,
                                                           FeedbackRow.conversation_id == conversation_id))
            if row is None:
                row = FeedbackRow(entry_id=entry_id, conversation_id=conversation_id)
                session.add(row)
            row.entry_version, row.channel, row.helpful, row.at = entry_version, channel, helpful, self._clock()
            session.flush()
            return row.id

    def counts(self, entry_id: str) -> FeedbackCounts:
        """The votes on one entry (zero when it has none)."""
        found = self._counted(entry_id=entry_id)
        return found[0] if found else FeedbackCounts(entry_id=entry_id, helpful=0, unhelpful=0, last_vote=None)

    def most_unhelpful(self, *, limit: int = 50) -> list[FeedbackCounts]:
        """Entries with at least one unhelpful vote: most unhelpful votes first, then the higher share."""
        ranked = [c for c in self._counted() if c.unhelpful]
        ranked.sort(key=lambda c: (-c.unhelpful, -c.unhelpful_share, c.entry_id))
        return ranked[:limit]

    def _counted(self, *, entry_id: str | None = None) -> list[FeedbackCounts]:
        unhelpful = func.sum(case((FeedbackRow.helpful.is_(False), 1), else_=0))
        query = (select(FeedbackRow.entry_id, func.count(), unhelpful, func.max(FeedbackRow.at))
                 .group_by(FeedbackRow.entry_id))
        if entry_id is not None:
            query = query.where(FeedbackRow.entry_id == entry_id)
        with self._sessions() as session:
            return [FeedbackCounts(entry_id=row[0], helpful=row[1] - row[2], unhelpful=row[2],
                                   last_vote=row[3])
                    for row in session.execute(query)]
