"""Helpers of the pipeline's and the Telegram connector's fast tests: what a conversation left in each table."""

from __future__ import annotations

from sqlalchemy import select

from connectors.models import InboundRecord
from outbox.models import OutboxMessage
from transcripts.models import TranscriptRecord


def identity(text: str) -> str:
    return text


def transcript(sessions, conversation_id: str) -> list[TranscriptRecord]:
    with sessions() as session:
        return list(session.scalars(select(TranscriptRecord).where(TranscriptRecord.conversation_id == conversation_id)
                                    .order_by(TranscriptRecord.id)))


def outbox(sessions, conversation_id: str) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id)
                                    .order_by(OutboxMessage.id)))


def inbound(sessions, conversation_id: str) -> list[InboundRecord]:
    with sessions() as session:
        return list(session.scalars(select(InboundRecord).where(InboundRecord.conversation_id == conversation_id)
                                    .order_by(InboundRecord.id)))
