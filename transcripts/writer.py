"""The one transcript writer: every message in and out, appended and chained before it is acted on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session, sessionmaker

from transcripts.chain import hashed_fields, record_hash, sha256_text
from transcripts.models import AUTHOR_ROLES, GENESIS_HASH, TranscriptHead, TranscriptOriginal, TranscriptRecord

Redact = Callable[[str], str]


class TranscriptError(ValueError):
    """A record the writer refuses (unknown author role, no conversation)."""


@dataclass(frozen=True)
class TranscriptRef:
    id: int
    hash: str
    at: datetime


class TranscriptWriter:
    """Appends records; writers in several processes are serialised by the database (see TranscriptHead)."""

    def __init__(self, sessions: sessionmaker, *, redact: Redact,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._redact = redact
        self._clock = clock

    def append(self, *, channel: str, conversation_id: str, author_role: str, text: str,
               author: str | None = None, platform_message_id: str | None = None, entry_id: str | None = None,
               entry_version: int | None = None, case_id: str | None = None,
               meta: dict[str, Any] | None = None, account: str | None = None) -> TranscriptRef:
        """Write one record in its own transaction and return it once committed."""
        with self._sessions.begin() as session:
            return self.append_in(session, channel=channel, conversation_id=conversation_id,
                                  author_role=author_role, text=text, author=author,
                                  platform_message_id=platform_message_id, entry_id=entry_id,
                                  entry_version=entry_version, case_id=case_id, meta=meta, account=account)

    def append_in(self, session: Session, *, channel: str, conversation_id: str, author_role: str, text: str,
                  author: str | None = None, platform_message_id: str | None = None, entry_id: str | None = None,
                  entry_version: int | None = None, case_id: str | None = None,
                  meta: dict[str, Any] | None = None, account: str | None = None) -> TranscriptRef:
        """Write one record inside the caller's transaction, so that it commits with what the caller does.
        `account`: the city's account of the conversation (None: the channel's default)."""
        if author_role not in AUTHOR_ROLES:
            raise TranscriptError(f"unknown author role {author_role!r}; one of: {', '.join(AUTHOR_ROLES)}")
        if not conversation_id:
            raise TranscriptError("a transcript record needs a conversation id")
        public_text = self._redact(text) if text else text
        head = self._lock_head(session)
        record = TranscriptRecord(id=head.last_id + 1, at=self._clock().astimezone(UTC), channel=channel,
                                  conversation_id=conversation_id, author_role=author_role, author=author,
                                  public_text=public_text, original_sha256=sha256_text(text),
                                  entry_id=entry_id, entry_version=entry_version, case_id=case_id,
                                  platform_message_id=platform_message_id, meta=meta or {}, account=account,
                                  prev_hash=head.last_hash)
        record.hash = record_hash(hashed_fields(record))
        session.add(record)
        session.flush()
        session.add(TranscriptOriginal(record_id=record.id, text=text))
        head.last_id, head.last_hash = record.id, record.hash
        session.flush()
        return TranscriptRef(id=record.id, hash=record.hash, at=record.at)

    @staticmethod
    def _lock_head(session: Session) -> TranscriptHead:
        # A write first: SQLite takes its write lock (waiting out the busy timeout) and PostgreSQL a row lock,
        # so no other writer can read the same head before this transaction commits.
        # an UPDATE without RETURNING gives a CursorResult, which Session.execute's overloads do not say
        # (sqlalchemy/sqlalchemy#9185)
        result = cast(CursorResult[Any], session.execute(update(TranscriptHead).where(TranscriptHead.id == 1)
                                                         .values(last_id=TranscriptHead.last_id)))
        locked = result.rowcount
        if not locked:
            session.add(TranscriptHead(id=1, last_id=0, last_hash=GENESIS_HASH))
            session.flush()
        head = session.get(TranscriptHead, 1, populate_existing=True)
        assert head is not None
        return head
