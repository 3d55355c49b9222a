"""The connectors' tables: inbound messages (de-duplication and processing state), offered buttons, state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database import Base
from database.types import UTCDateTime

# received: claimed, not yet in the transcript · recorded: in the transcript, replies not yet queued ·
# answered: replies queued (or none due) · duplicate: dropped, see duplicate_of · failed: gave up (see last_error)
INBOUND_STATES = ("received", "recorded", "answered", "duplicate", "failed")


class InboundRecord(Base):
    """One citizen message as received; (channel, platform message id) is unique, so a redelivery is noticed."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "platform_message_id"),
        Index("ix_inbound_same_text", "channel", "sender_id", "text_hash", "received_at"),
        Index("ix_inbound_pending", "channel", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(30))
    platform_message_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    sender_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    text_hash: Mapped[str | None] = mapped_column(String(64))
    is_button: Mapped[bool] = mapped_column(Boolean, default=False)
    lat: Mapped[float | None]
    long: Mapped[float | None]
    reply_to: Mapped[str | None] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="received")
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    transcript_id: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    account: Mapped[str | None] = mapped_column(String(60))  # the account written to; None: the channel's default


class ButtonChoice(Base):
    """A button offered in a conversation: its number (for channels without buttons) and payload (any length)."""

    __tablename__ = "button_choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    batch: Mapped[str] = mapped_column(String(200))  # the outbox idempotency key of the reply that offered it
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConnectorState(Base):
    """Small durable values a connector keeps between runs (e.g. X's since_id)."""

    __tablename__ = "connector_state"

    connector: Mapped[str] = mapped_column(String(30), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
