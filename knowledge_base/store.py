"""Entries and cached phrasing embeddings in the relational database (SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import JSON, DateTime, Float, LargeBinary, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from database import Base
from knowledge_base.entry import Entry


class EntryRow(Base):
    __tablename__ = "kb_entries"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    alt_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(200), index=True)
    topic: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(20), default="en")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def to_entry(self) -> Entry:
        return Entry(id=self.id, question=self.question, alt_questions=tuple(self.alt_questions or ()),
                     answer=self.answer, department=self.department, topic=self.topic,
                     category=self.category, url=self.url, language=self.language)


class CalibrationRow(Base):
    """The answer threshold calibrated on the knowledge base (knowledge_base/calibration.py), per model."""

    __tablename__ = "kb_calibration"

    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column(Float)
    figures: Mapped[dict] = mapped_column(JSON)
    calibrated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmbeddingRow(Base):
    """A phrasing's vector, keyed by model and text, so unchanged text is never embedded twice."""

    __tablename__ = "kb_embeddings"

    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class UpsertReport:
    created: int
    updated: int
    unchanged: int


def _fields(entry: Entry) -> dict:
    data = entry.model_dump()
    data["alt_questions"] = list(entry.alt_questions)
    return data


class EntryStore:
    """Keyword-only CRUD over entries; every write is one transaction."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def upsert_many(self, entries: Sequence[Entry]) -> UpsertReport:
        """Create or replace entries by id, all or nothing."""
        created = updated = unchanged = 0
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            existing = {row.id: row for row in session.scalars(
                select(EntryRow).where(EntryRow.id.in_([e.id for e in entries])))}
            for entry in entries:
                row = existing.get(entry.id)
                if row is None:
                    session.add(EntryRow(**_fields(entry), updated_at=now))
                    created += 1
                elif row.to_entry() == entry:
                    unchanged += 1
                else:
                    for key, value in _fields(entry).items():
                        setattr(row, key, value)
                    row.updated_at = now
                    updated += 1
        return UpsertReport(created=created, updated=updated, unchanged=unchanged)

    def get(self, entry_id: str) -> Entry | None:
        with self._sessions() as session:
            row = session.get(EntryRow, entry_id)
            return row.to_entry() if row else None

    def all(self) -> list[Entry]:
        with self._sessions() as session:
            return [row.to_entry() for row in session.scalars(select(EntryRow).order_by(EntryRow.id))]

    def count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(EntryRow)) or 0


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Stored phrasing vectors (float32) per model."""

    def __init__(self, sessions: sessionmaker, model: str) -> None:
        self._sessions = sessions
        self._model = model

    def get_many(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        keys = {text_key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        key_list = list(keys)
        with self._sessions() as session:
            for start in range(0, len(key_list), 500):
                chunk = key_list[start:start + 500]
                rows = session.scalars(select(EmbeddingRow).where(
                    EmbeddingRow.model == self._model, EmbeddingRow.text_sha256.in_(chunk)))
                for row in rows:
                    found[keys[row.text_sha256]] = np.frombuffer(row.vector, dtype=np.float32)
        return found

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        with self._sessions.begin() as session:
            for text, vector in vectors.items():
                session.merge(EmbeddingRow(model=self._model, text_sha256=text_key(text),
                                           vector=np.asarray(vector, dtype=np.float32).tobytes()))


class CalibrationStore:
    """The stored calibration of one model's knowledge base: its threshold and how it was found."""

    def __init__(self, sessions: sessionmaker, model: str) -> None:
        self._sessions = sessions
        self._model = model

    def get(self) -> tuple[str, float, dict] | None:
        """(fingerprint, threshold, figures) of the stored calibration, or None."""
        with self._sessions() as session:
            row = session.get(CalibrationRow, self._model)
            return (row.fingerprint, row.threshold, dict(row.figures)) if row else None

    def put(self, *, fingerprint: str, threshold: float, figures: dict) -> None:
        with self._sessions.begin() as session:
            session.merge(CalibrationRow(model=self._model, fingerprint=fingerprint, threshold=threshold,
                                         figures=figures, calibrated_at=datetime.now(UTC)))
