"""The broadcasts' tables: alerts (with their updates and cancels) and the citizens' subscriptions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from database import Base
from database.types import UTCDateTime


class AlertState(StrEnum):
    """draft -> approved (by a second broadcaster) -> released (its outbox rows queued); cancelled from any of them
    (a released alert's cancel is an alert of its own, msgType Cancel, sent to everyone who got it)."""

    DRAFT = "draft"
    APPROVED = "approved"
    RELEASED = "released"
    CANCELLED = "cancelled"


class MsgType(StrEnum):
    """CAP 1.2 msgType: an update or a cancel refers to the alert it changes (`references_id`)."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class Alert(Base):
    __tablename__ = "broadcast_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200), unique=True)  # CAP identifier, stable
    msg_type: Mapped[MsgType] = mapped_column(String(10), default=MsgType.ALERT)
    references_id: Mapped[int | None] = mapped_column(ForeignKey("broadcast_alerts.id"), index=True)
    template: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20))  # CAP category: Met, Safety, Infra, ...
    event: Mapped[str] = mapped_column(String(200))
    headline: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    instruction: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(20))
    certainty: Mapped[str] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(200), default="")  # "" for the whole city
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channels: Mapped[list] = mapped_column(JSON, default=list)  # account names: telegram, x, web (issue 19 part 1)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[AlertState] = mapped_column(String(12), default=AlertState.DRAFT, index=True)
    drafted_by: Mapped[str] = mapped_column(String(100))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(100))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Subscription(Base):
    """A citizen's opt-in on one channel: everything, or one topic (a template's name), or one area. Removed ones
    stay, with when and why (they unsubscribed, or blocked the bot)."""

    __tablename__ = "broadcast_subscriptions"
    __table_args__ = (UniqueConstraint("channel", "address", "topic", "area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(30), index=True)
    address: Mapped[str] = mapped_column(String(200), index=True)  # the conversation id (tg-<chat>, web-...)
    topic: Mapped[str] = mapped_column(String(60), default="")  # "" = every topic
    area: Mapped[str] = mapped_column(String(200), default="")  # "" = every area (lower case)
    test: Mapped[bool] = mapped_column(Boolean, default=False)  # a test recipient: exercises reach only these
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    removed_reason: Mapped[str | None] = mapped_column(String(300))
