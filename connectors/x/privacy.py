"""Whether an answer on X may be public: never with personal data, never about a citizen's own case."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from connectors.models import InboundRecord
from handoff.models import Case
from outbox.message import OutboundMessage
from outbox.models import OutboxMessage
from privacy import Redactor
from transcripts.models import TranscriptRecord

CASE_NUMBER = re.compile(r"\bCD-\d{4}-\d{6}\b")  # handoff.service.case_number's format


def personal_data_kinds(text: str, redactor: Redactor) -> list[str]:
    """The kinds of personal data (phone, email, ...) in `text`, by the transcripts' redaction rules."""
    return sorted({finding.kind for finding in redactor.find(text)})


def reason_to_answer_privately(sessions: sessionmaker, message: OutboundMessage, redactor: Redactor) -> str | None:
    """Why this reply to a public conversation must go by direct message instead; None: it may be public."""
    if message.case_id is not None:
        return "a staff answer about the citizen's case"
    # the assistant's own wording is the city's public information (its phone numbers and offices look like
    # personal data to the redaction rules); what could make it personal is the citizen's post, checked below
    if CASE_NUMBER.search(message.text):
        return "the reply is about the citizen's case"
    if message.reply_to is None:
        return None
    with sessions() as session:
        # the replies to one post go the same way: a case named in one of them makes them all private
        siblings = session.scalars(select(OutboxMessage.text).where(
            OutboxMessage.channel == "x", OutboxMessage.conversation_id == message.conversation_id,
            OutboxMessage.reply_to == message.reply_to)).all()
        if any(CASE_NUMBER.search(text) for text in siblings):
            return "another reply to this post is about the citizen's case"
        inbound = session.scalar(select(InboundRecord).where(InboundRecord.channel == "x",
                                                             InboundRecord.platform_message_id == message.reply_to))
        if inbound is None:
            return None
        if kinds := personal_data_kinds(inbound.text or "", redactor):
            return f"the citizen's post contains personal data ({', '.join(kinds)})"
        if inbound.transcript_id is not None:
            turn = session.scalars(select(TranscriptRecord).where(
                TranscriptRecord.conversation_id == inbound.conversation_id, TranscriptRecord.author_role == "bot",
                TranscriptRecord.id > inbound.transcript_id, TranscriptRecord.case_id.is_not(None))
                .order_by(TranscriptRecord.id).limit(50)).all()
            if any((r.meta or {}).get("in_reply_to") == inbound.platform_message_id for r in turn):
                return "the answer concerns a case about the citizen"
    return None


def public_post_of_case(sessions: sessionmaker, conversation_id: str, case_id: int) -> str | None:
    """The citizen's public post that opened case `case_id` (its tweet id), if the case came from a mention."""
    with sessions() as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        inbound = session.scalar(select(InboundRecord).where(
            InboundRecord.channel == "x", InboundRecord.conversation_id == conversation_id,
            InboundRecord.received_at <= case.requested_datetime, InboundRecord.state != "duplicate")
            .order_by(InboundRecord.received_at.desc()).limit(1))
        return inbound.reply_to if inbound is not None and inbound.public else None
