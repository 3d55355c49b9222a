"""Transcript tables: the append-only chained records, the originals kept beside them, the chain's head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base
from database.types import UTCDateTime

AUTHOR_ROLES = ("citizen", "bot", "staff", "system")
GENESIS_HASH = "0" * 64


class TranscriptRecord(Base):
    """One message in or out. Never updated or deleted (database triggers refuse it); `hash` chains it."""

    __tablename__ = "transcript_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    channel: Mapped[str] = mapped_column(String(30))
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    author_role: Mapped[str] = mapped_column(String(20))
    author: Mapped[str | None] = mapped_column(String(100))  # the staff member's username; None for others
    public_text: Mapped[str] = mapped_column(Text)  # redacted when written: what the public may read
    original_sha256: Mapped[str] = mapped_column(String(64))  # the original's digest, so retention keeps the chain
    entry_id: Mapped[str | None] = mapped_column(String(200))
    entry_version: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[str | None] = mapped_column(String(40), index=True)  # service_request_id
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    account: Mapped[str | None] = mapped_column(String(60))  # the city's account; None: the channel's default
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class TranscriptOriginal(Base):
    """The unredacted text for authorised staff; retention may blank it, never the public record."""

    __tablename__ = "transcript_originals"

    record_id: Mapped[int] = mapped_column(ForeignKey("transcript_records.id"), primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_reason: Mapped[str | None] = mapped_column(Text)


class TranscriptHead(Base):
    """One row: the last record's id and hash. Every append updates it first, which serialises writers
    across processes (SQLite's write lock, PostgreSQL's row lock) and lets `verify` notice a cut-off tail."""

    __tablename__ = "transcript_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
