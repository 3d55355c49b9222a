"""The outbox's rows: queued by their owners, read and marked by the senders. The one place that writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from outbox.message import OutboundMessage, outbound_of
from outbox.models import OutboxMessage, OutboxState
from privacy import REMOVED_TEXT

# The sender of the web chat is the browser, which fetches its replies: handed over inline, they count as sent.
INLINE = "inline"
# A message whose key ends with this is sent at most once: interrupted while sending (a crash), it is dropped instead
# of sent again, because a second copy confuses more than a missing one (the "received, the answer follows" note:
# the answer itself follows).
AT_MOST_ONCE_SUFFIX = "-pending"
# A message whose key starts with this is one of many of a bulk send (an emergency alert to thousands): the channel's
# other due messages go first, so that a citizen's answer never waits behind a broadcast.
BULK_PREFIX = "bulk:"


class RequeueRefused(ValueError):
    """A failed message that must not be sent again."""


def enqueue(session: Session, *, key: str, channel: str, conversation_id: str, text: str, now: datetime,
            case_id: int | None = None, reply_to: str | None = None, public: bool = False,
            buttons: Sequence[dict[str, Any]] = (), inbound_id: int | None = None,
            handed_over: bool = False, account: str | None = None) -> OutboxMessage:
    """Queue one message in the caller's transaction (so that it leaves only if what caused it is committed).

    `key` makes it idempotent: the same key twice is a database error, never a second message. `handed_over`:
    the caller delivers it itself in this request (the web chat's reply), so it is sent already. `account`: the
    city's account it leaves from (None: the channel's default); the channel's sender picks the bot by it.
    """
    row = OutboxMessage(idempotency_key=key, channel=channel, conversation_id=conversation_id, text=text,
                        created_at=now, case_id=case_id, reply_to=reply_to, public=public, buttons=list(buttons),
                        inbound_id=inbound_id, attempts=0, parts_delivered=0, account=account,
                        state=OutboxState.SENT if handed_over else OutboxState.QUEUED,
                        delivered_at=now if handed_over else None, platform_message_id=INLINE if handed_over else None)
    session.add(row)
    session.flush()
    return row


def enqueue_many(session: Session, messages: Sequence[dict[str, Any]], *, now: datetime) -> int:
    """Queue many messages in one statement, in the caller's transaction: each a dict of `key`, `channel`,
    `conversation_id`, `text` and optionally `public` and `account` (a broadcast to thousands). Keys already queued
    are a database error, as for `enqueue`: the caller leaves them out (`queued_keys`)."""
    if not messages:
        return 0
    session.execute(insert(OutboxMessage), [
        {"idempotency_key": m["key"], "channel": m["channel"], "conversation_id": m["conversation_id"],
         "text": m["text"], "public": bool(m.get("public", False)), "created_at": now, "attempts": 0,
         "parts_delivered": 0, "state": OutboxState.QUEUED, "buttons": [], "account": m.get("account")}
        for m in messages])
    return len(messages)


def has_key(session: Session, key: str) -> bool:
    """Is a message with this idempotency key queued (or sent) already?"""
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)) is not None


def enqueue_once(session: Session, *, key: str, channel: str, conversation_id: str, text: str, now: datetime,
                 case_id: int | None = None, account: str | None = None) -> OutboxMessage | None:
    """Queue a message unless one with `key` was queued before (a notice sent once): the row, or None."""
    if has_key(session, key):
        return None
    return enqueue(session, key=key, channel=channel, conversation_id=conversation_id, text=text, now=now,
                   case_id=case_id, account=account)


def queued_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of `keys` were queued already."""
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(keys))))


def for_case(sessions: sessionmaker, case_id: int, channel: str | None = None) -> list[OutboxMessage]:
    """A case's outgoing messages (of one channel), oldest first, with their state, attempts and last error."""
    with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)
        if channel:
            query = query.where(OutboxMessage.channel == channel)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


# PostgreSQL, where several desk workers send: how long a claimed (SENDING) row is theirs. Past it, the claimer is
# taken for dead and another worker sends the row again; a delivery must finish well within it.
CLAIM_LEASE_S = 300.0


def due(sessions: sessionmaker, channel: str, now: datetime, limit: int = 500) -> list[OutboundMessage]:
    """The channel's messages to send now, oldest first (bulk ones, BULK_PREFIX, after all others); a conversation
    waits behind its oldest unsent message, so that replies never overtake each other. They are marked SENDING
    (claimed).

    SQLite has one worker: a SENDING row is one its last run left unfinished, claimed again at once. On PostgreSQL
    several workers claim at the same time: rows are locked with FOR UPDATE SKIP LOCKED, a conversation is taken only
    when its oldest unsent row is among the rows this worker locked (so another worker's claim, or a row being
    claimed now, holds the whole conversation back), and a claim holds for CLAIM_LEASE_S (next_attempt_at)."""
    with sessions.begin() as session:
        shared = session.get_bind().dialect.name == "postgresql"
        query = (select(OutboxMessage).where(
            OutboxMessage.channel == channel,
            OutboxMessage.state.in_((OutboxState.QUEUED, OutboxState.SENDING)))
            .order_by(case((OutboxMessage.idempotency_key.startswith(BULK_PREFIX), 1), else_=0), OutboxMessage.id)
            .limit(limit))
        rows = session.scalars(query.with_for_update(skip_locked=True) if shared else query).all()
        blocked: set[str] = set()
        if shared and rows:
            # READ COMMITTED: this statement sees every row committed so far, locked by others or not
            conversations = {row.conversation_id for row in rows}
            oldest = dict(session.execute(
                select(OutboxMessage.conversation_id, func.min(OutboxMessage.id))
                .where(OutboxMessage.channel == channel, OutboxMessage.conversation_id.in_(conversations),
                       OutboxMessage.state.in_((OutboxState.QUEUED, OutboxState.SENDING)))
                .group_by(OutboxMessage.conversation_id)).tuples().all())
            mine = {row.id for row in rows}
            blocked = {conversation for conversation, row_id in oldest.items() if row_id not in mine}
        claimed = []
        for row in rows:
            if row.conversation_id in blocked:
                continue
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                blocked.add(row.conversation_id)  # a retry waiting, or (PostgreSQL) another worker's claim
                continue
            if row.state == OutboxState.SENDING and row.idempotency_key.endswith(AT_MOST_ONCE_SUFFIX):
                row.state, row.failed_at = OutboxState.DROPPED, now
                row.last_error = "interrupted while sending; sent at most once"
                continue
            row.state = OutboxState.SENDING
            if shared:
                row.next_attempt_at = now + timedelta(seconds=CLAIM_LEASE_S)
            claimed.append(outbound_of(row))
        return claimed


def part_sent(sessions: sessionmaker, row_id: int, platform_id: str) -> None:
    """One part of a split message was accepted: a restart continues after it."""
    with sessions.begin() as session:
        row = session.get_one(OutboxMessage, row_id)
        row.parts_delivered = (row.parts_delivered or 0) + 1
        row.platform_message_id = platform_id


def mark_sent(sessions: sessionmaker, row_id: int, platform_id: str, now: datetime) -> None:
    """The receiving server accepted the (last part of the) message and called it `platform_id`."""
    with sessions.begin() as session:
        row = session.get_one(OutboxMessage, row_id)
        row.attempts = (row.attempts or 0) + 1
        row.state, row.delivered_at, row.platform_message_id = OutboxState.SENT, now, platform_id
        row.parts_delivered = (row.parts_delivered or 0) + 1
        row.last_error = None


def retry_later(sessions: sessionmaker, row_id: int, error: str, *, counted: bool, after_s: float | None,
                max_attempts: int, backoff: tuple[float, float], now: datetime) -> OutboxMessage:
    """An attempt failed: queue it again after `after_s` (or after capped exponential backoff when `counted`), or
    fail it for good once it has had `max_attempts`. Returns the row as it now stands."""
    base_delay_s, max_delay_s = backoff
    with sessions.begin() as session:
        row = session.get_one(OutboxMessage, row_id)
        row.last_error = error[:2000]
        if counted:
            row.attempts = (row.attempts or 0) + 1
            if row.attempts >= max_attempts:
                row.state, row.failed_at = OutboxState.FAILED, now
                return row
            after_s = min(max_delay_s, base_delay_s * 2 ** (row.attempts - 1))
        row.state, row.next_attempt_at = OutboxState.QUEUED, now + timedelta(seconds=after_s or 0)
        return row


def fail(sessions: sessionmaker, row_id: int, error: str, now: datetime) -> None:
    """The receiver refused it for good (the citizen blocked the account): no more attempts."""
    with sessions.begin() as session:
        row = session.get_one(OutboxMessage, row_id)
        row.attempts = (row.attempts or 0) + 1
        row.state, row.last_error, row.failed_at = OutboxState.FAILED, error[:2000], now


def waiting_for(sessions: sessionmaker, *, channel: str, conversation_id: str) -> list[OutboxMessage]:
    """A conversation's unsent messages, oldest first (the web chat's browser fetches them)."""
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == channel, OutboxMessage.conversation_id == conversation_id,
            OutboxMessage.state.in_((OutboxState.QUEUED, OutboxState.SENDING))).order_by(OutboxMessage.id)).all()
        session.expunge_all()
        return list(rows)


def for_browser(sessions: sessionmaker, *, channel: str, conversation_id: str, after: int) -> list[OutboxMessage]:
    """A conversation's messages after id `after` that a browser fetches: those waiting, and those fetched already
    (a response can be lost: the page says what it has), never those handed over inline or failed; oldest first."""
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == channel, OutboxMessage.conversation_id == conversation_id,
            OutboxMessage.id > after, OutboxMessage.state.not_in((OutboxState.FAILED, OutboxState.DROPPED)),
            (OutboxMessage.platform_message_id.is_(None)) | (OutboxMessage.platform_message_id != INLINE))
            .order_by(OutboxMessage.id)).all()
        session.expunge_all()
        return list(rows)


def mark_fetched(sessions: sessionmaker, row_ids: Sequence[int], now: datetime) -> None:
    """The browser received these messages (the web chat's delivery): sent."""
    with sessions.begin() as session:
        for row in session.scalars(select(OutboxMessage).where(
                OutboxMessage.id.in_(row_ids), OutboxMessage.state != OutboxState.SENT)):
            row.state, row.delivered_at = OutboxState.SENT, now
            row.attempts = (row.attempts or 0) + 1


def replies_to(sessions: sessionmaker, inbound_id: int) -> list[OutboundMessage]:
    """The messages queued in answer to one citizen message, in order."""
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.inbound_id == inbound_id)
                               .order_by(OutboxMessage.id)).all()
        return [outbound_of(row) for row in rows]


def failed_messages(sessions: sessionmaker, channel: str | None = None) -> list[OutboxMessage]:
    """Messages the sender gave up on (poison), with their attempts and last error, for people to look at."""
    with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED).order_by(OutboxMessage.id)
        if channel:
            query = query.where(OutboxMessage.channel == channel)
        return list(session.scalars(query))


def requeue(sessions: sessionmaker, message_id: int) -> OutboundMessage:
    """Give a failed message another round of attempts (after the cause was fixed)."""
    with sessions.begin() as session:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.state != OutboxState.FAILED:
            raise LookupError(f"no failed outbox message {message_id}")
        if row.text == REMOVED_TEXT:
            # sending it would deliver the marker, not the reply: the words are gone for good
            raise RequeueRefused(f"outbox message {message_id} cannot be sent again: retention removed its text "
                                 f"(it now reads {REMOVED_TEXT!r}); answer the citizen anew instead")
        row.state, row.failed_at, row.next_attempt_at, row.attempts = OutboxState.QUEUED, None, None, 0
        return outbound_of(row)
