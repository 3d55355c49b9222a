"""Delivers the X outbox: public answers as a thread under the citizen's post, private ones by direct message.

A reply to a public mention goes in the mention's thread, split into numbered parts of at most 280 characters,
each part replying to the previous one. When the answer must not be public (personal data, the citizen's own
case, a staff answer: connectors/x/privacy.py) it goes by DM and the thread gets only a short note, once per
citizen post. Buttons become numbered choices ("Reply 1, 2 or 3"); the pipeline maps the number back.
"""

from __future__ import annotations

import asyncio
import logging

import tweepy
from sqlalchemy import or_, select
from sqlalchemy.orm import sessionmaker

from accounts import platform_conversation_of
from broadcasts.render import THREAD_SEPARATOR
from broadcasts.service import X_TIMELINE
from connectors.x.poller import rate_limit_wait
from connectors.x.privacy import public_post_of_case, reason_to_answer_privately
from connectors.x.state import XState
from connectors.x.text import TWEET_LIMIT, split_thread, with_choices
from outbox.message import OutboundMessage
from outbox.models import OutboxMessage
from outbox.sender import PartSent, PermanentFailure, RetryLater
from privacy import Redactor

log = logging.getLogger(__name__)

DM_LIMIT = 10_000  # characters of one direct message
# X refuses a tweet whose text repeats one of the account's recent tweets: the note names the post it answers
DM_NOTE = "We've sent you a direct message. (ref {ref})"
DUPLICATE_MARK = " (ref {ref})"  # added to a part that repeats an earlier tweet word for word (FAQ answers do)
DUPLICATE_RESERVE = len(DUPLICATE_MARK.format(ref="123456"))
STAFF_NOTE = "The city has answered you by direct message. (ref {ref})"


def thread_parts(text: str) -> list[str]:
    """The tweets of a public answer, with room left in each for the duplicate mark."""
    return split_thread(text, limit=TWEET_LIMIT - DUPLICATE_RESERVE)


class XSender:
    """The `deliver` coroutine of the X channel's OutboxSender (outbox/sender.py)."""

    def __init__(self, client: tweepy.Client, sessions: sessionmaker, state: XState, *, redactor: Redactor) -> None:
        self.client = client
        self.sessions = sessions
        self.state = state
        self.redactor = redactor

    async def __call__(self, message: OutboundMessage, part_sent: PartSent) -> str:
        try:
            return await self._deliver(message, part_sent)
        except tweepy.TooManyRequests as error:
            raise RetryLater(rate_limit_wait(error, 0), "X rate limit") from error
        except (tweepy.Forbidden, tweepy.NotFound, tweepy.BadRequest, tweepy.Unauthorized) as error:
            raise PermanentFailure(f"X refused the message: {error}") from error

    async def _deliver(self, message: OutboundMessage, part_sent: PartSent) -> str:
        if message.conversation_id.partition("@")[0] == X_TIMELINE:
            return await self._post_on_timeline(message, part_sent)
        text = with_choices(message.text, message.buttons)
        public_post = await asyncio.to_thread(self._public_post, message)
        reason = await asyncio.to_thread(reason_to_answer_privately, self.sessions, message,
                                           self.redactor) if public_post else None
        if public_post and reason is None:
            return await self._post_thread(message, thread_parts(text), public_post, part_sent)
        if reason:
            log.info("X outbox %s goes by direct message: %s", message.idempotency_key, reason)
        steps = [("dm", part) for part in split_thread(text, limit=DM_LIMIT)]
        # one note per citizen post for the assistant's answers; one per answer for staff answers
        if message.case_id is not None:
            note_key, note = f"note:{message.idempotency_key}", STAFF_NOTE.format(ref=message.id)
        else:
            note_key, note = f"note:{public_post}", DM_NOTE.format(ref=(public_post or "")[-6:])
        if public_post and await asyncio.to_thread(self.state.get, note_key) is None:
            steps.append(("note", note))
        last = message.platform_message_id or ""
        for index, (kind, part) in enumerate(steps):
            if index < message.parts_delivered:
                continue
            if kind == "dm":
                last = await self._dm(message.conversation_id, part)
            elif public_post:  # the note, planned only under a public post
                last = await self._tweet(part, in_reply_to=public_post)
                await asyncio.to_thread(self.state.set, note_key, last)
            if index < len(steps) - 1:
                await part_sent(last)
        return last

    async def _post_on_timeline(self, message: OutboundMessage, part_sent: PartSent) -> str:
        """An emergency alert: the account's own post, a thread when longer (posts prepared by broadcasts.render);
        after a restart it continues after the parts already posted."""
        parts = message.text.split(THREAD_SEPARATOR)
        parent = message.platform_message_id if message.parts_delivered else None
        for index, part in enumerate(parts):
            if index < message.parts_delivered:
                continue
            response = await asyncio.to_thread(self.client.create_tweet, text=part, in_reply_to_tweet_id=parent)
            parent = str(response.data["id"])
            if index < len(parts) - 1:
                await part_sent(parent)
        return parent or ""

    def _public_post(self, message: OutboundMessage) -> str | None:
        """The citizen's tweet this answer belongs under: the mention answered, or the one that opened the case."""
        if message.public and message.reply_to:
            return message.reply_to
        if message.case_id is not None:
            return public_post_of_case(self.sessions, message.conversation_id, message.case_id)
        return None

    async def _post_thread(self, message: OutboundMessage, parts: list[str], public_post: str,
                           part_sent: PartSent) -> str:
        if message.parts_delivered and message.platform_message_id is not None:
            parent = message.platform_message_id  # the last part sent (outbox.store.part_sent keeps both)
        else:
            parent = await asyncio.to_thread(self._thread_end, message, public_post)
        for index, part in enumerate(parts):
            if index < message.parts_delivered:
                continue
            try:
                parent = await self._tweet(part, in_reply_to=parent)
            except tweepy.Forbidden as error:
                if "duplicate" not in str(error).lower():
                    raise
                parent = await self._tweet(part + DUPLICATE_MARK.format(ref=public_post[-6:]), in_reply_to=parent)
            if index < len(parts) - 1:
                await part_sent(parent)
        return parent

    def _thread_end(self, message: OutboundMessage, public_post: str) -> str:
        """Where this answer continues the thread: after the last tweet of an earlier answer to the same post."""
        with self.sessions() as session:
            earlier = session.scalar(select(OutboxMessage.platform_message_id).where(
                OutboxMessage.channel == "x", OutboxMessage.reply_to == public_post, OutboxMessage.id < message.id,
                # a post that mentions two of the city's accounts gets a thread from each (rows from before accounts
                # have none)
                or_(OutboxMessage.account.is_(None), OutboxMessage.account == message.account),
                OutboxMessage.delivered_at.is_not(None), OutboxMessage.public.is_(True))
                .order_by(OutboxMessage.id.desc()).limit(1))
        return earlier or public_post

    async def _tweet(self, text: str, *, in_reply_to: str) -> str:
        response = await asyncio.to_thread(self.client.create_tweet, text=text, in_reply_to_tweet_id=in_reply_to)
        return str(response.data["id"])

    async def _dm(self, conversation_id: str, text: str) -> str:
        participant = platform_conversation_of(conversation_id, "x")
        response = await asyncio.to_thread(self.client.create_direct_message, participant_id=participant, text=text)
        return str(response.data["dm_event_id"])
