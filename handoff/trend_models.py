"""Trends' tables (revision 0017h): each message's topics and keywords, the clusters of unanswered messages, the
job's progress, the bursts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base
from database.types import UTCDateTime


class TopicKind(StrEnum):
    """A message's one topic (a knowledge base topic, a service category or a cluster) or one of its keywords."""

    TOPIC = "topic"
    KEYWORD = "keyword"


class MessageTopic(Base):
    __tablename__ = "message_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("message_decisions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the message's, copied: periods are read from one index
    kind: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(200))


class TopicCluster(Base):
    """Unanswered messages that mean the same thing: a redacted example as label, the mean of their vectors."""

    __tablename__ = "topic_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    centroid: Mapped[list[float]] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrendProgress(Base):
    """How far the topic job got: the last message decision it read."""

    __tablename__ = "trend_progress"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class BurstRow(Base):
    """A burst of a topic (handoff/bursts.py's Burst as stored): alerted when it began, active until it ended."""

    __tablename__ = "bursts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_signal_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    peak_last_hour: Mapped[int] = mapped_column(Integer)
    expected_last_hour: Mapped[float]
