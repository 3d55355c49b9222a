"""The outbox table: every message that leaves the desk (chat replies, staff answers, e-mail notices)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database import Base
from database.types import UTCDateTime


class OutboxState(StrEnum):
    """Where a message is on its way out. Queued is not delivered: only SENT means the receiver accepted it."""

    QUEUED = "queued"  # waiting for its channel's sender (or for its next attempt)
    SENDING = "sending"  # claimed by a sender, which is talking to the receiving server
    SENT = "sent"  # the receiving server accepted it (platform_message_id says what it called it)
    FAILED = "failed"  # given up on after too many attempts, or refused for good; `citydesk connector failed`
    DROPPED = "dropped"  # an at-most-once note interrupted while sending: whether it arrived is unknown


class OutboxMessage(Base):
    """A message to deliver on its channel; delivered once (idempotency key)."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(30), index=True)  # web, telegram, x, email
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)  # for e-mail: the address
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[OutboxState] = mapped_column(String(10), default=OutboxState.QUEUED, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    platform_message_id: Mapped[str | None] = mapped_column(String(200))  # the last part sent
    parts_delivered: Mapped[int] = mapped_column(Integer, default=0)
    reply_to: Mapped[str | None] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    buttons: Mapped[list] = mapped_column(JSON, default=list)  # [{"title", "payload", "choice_id"}]
    inbound_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the citizen message it answers
    account: Mapped[str | None] = mapped_column(String(60))  # the account it leaves from; None: the channel's default
