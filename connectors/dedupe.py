"""Inbound de-duplication: the platform's message id (durable) and the same text from the same sender."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.message import InboundMessage
from connectors.models import InboundRecord

FINISHED_STATES = ("answered", "duplicate", "failed")
# "yes", "no", "thanks", "hi" legitimately come twice in ten minutes; a repeated posting is longer than that
MIN_REPEAT_CHARS = 20


def text_fingerprint(text: str) -> str:
    """Equal for texts that differ only in case and spacing."""
    return hashlib.sha256(re.sub(r"\s+", " ", text).strip().casefold().encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """new: first time seen · resume: `record` (seen before) was left unfinished by a crash or an outage ·
    duplicate: drop it."""

    outcome: Literal["new", "resume", "duplicate"]
    record: InboundRecord
    reason: str = ""


def claim(session: Session, message: InboundMessage, *, window_s: float, now: datetime) -> Claim:
    """Insert the message's row (state received) unless it is a duplicate; inside the caller's transaction."""
    existing = _by_platform_id(session, message)
    if existing is not None:
        if existing.state in FINISHED_STATES:
            return Claim("duplicate", existing, f"platform message id {message.platform_message_id} seen before")
        return Claim("resume", existing)
    text = message.text if message.kind == "text" else None
    fingerprint = text_fingerprint(text) if text else None
    earlier = None
    # button payloads repeat by design ("yes, helpful" for two answers): only free text is compared
    if text and not message.is_button and window_s > 0:
        earlier = session.scalar(select(InboundRecord).where(
            InboundRecord.channel == message.channel, InboundRecord.sender_id == message.sender_id,
            InboundRecord.text_hash == fingerprint, InboundRecord.is_button.is_(False),
            InboundRecord.state != "duplicate",
            InboundRecord.received_at >= message.received_at - timedelta(seconds=window_s))
            .order_by(InboundRecord.id.desc()).limit(1))
        if earlier is not None and earlier.state not in ("received", "recorded") and (
                len(text.strip()) < MIN_REPEAT_CHARS):
            earlier = None
    record = InboundRecord(
        channel=message.channel, platform_message_id=message.platform_message_id,
        conversation_id=message.conversation_id, sender_id=message.sender_id, kind=message.kind, text=message.text,
        text_hash=fingerprint, is_button=message.is_button, lat=message.lat, long=message.long,
        reply_to=message.reply_to, public=message.public, received_at=message.received_at,
        state="duplicate" if earlier else "received", duplicate_of=earlier.id if earlier else None,
        attempts=0, updated_at=now, account=message.account)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # another process claimed the same platform id a moment ago
        other = _by_platform_id(session, message)
        assert other is not None
        return Claim("duplicate", other, "claimed concurrently by another worker")
    if earlier is not None and earlier.state in ("received", "recorded"):
        # the first one is still unanswered (the assistant was down): this copy asks to try it again now
        return Claim("resume", earlier, f"same text as unanswered message {earlier.id}: retrying that one")
    if earlier is not None:
        return Claim("duplicate", record, f"same text as message {earlier.id} within {window_s:.0f} s")
    return Claim("new", record)


def _by_platform_id(session: Session, message: InboundMessage) -> InboundRecord | None:
    return session.scalar(select(InboundRecord).where(InboundRecord.channel == message.channel,
                                                      InboundRecord.platform_message_id == message.platform_message_id))
