"""Durable outbox delivery for one channel: retries with capped exponential backoff, delivered once.

A channel gives a `deliver(message, part_sent)` coroutine: it sends `message` (splitting it into parts as its
platform needs, skipping the first `message.parts_delivered` parts), awaits `part_sent(platform_id)` after
each part but the last, and returns the last part's platform message id. It raises RetryLater to wait
(rate limits), PermanentFailure when retrying cannot help (chat blocked), anything else to retry with backoff.
The row is marked sent in the same transaction that stores the platform message id (outbox/store.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker

from outbox import store
from outbox.message import OutboundMessage
from outbox.models import OutboxState

log = logging.getLogger(__name__)

PartSent = Callable[[str], Awaitable[None]]
Deliver = Callable[[OutboundMessage, PartSent], Awaitable[str]]


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429); not counted as a failed attempt."""

    def __init__(self, after_s: float, reason: str = "rate limited") -> None:
        super().__init__(f"{reason}; retry after {after_s:.1f} s")
        self.after_s = after_s


class PermanentFailure(Exception):
    """Retrying cannot help (e.g. the citizen blocked the bot): the message is marked failed at once."""


class OutboxSender:
    """Delivers a channel's due outbox rows, oldest first, in order within each conversation."""

    def __init__(self, sessions: sessionmaker, *, channel: str, deliver: Deliver, max_attempts: int = 8,
                 base_delay_s: float = 2.0, max_delay_s: float = 600.0, poll_interval_s: float = 1.0,
                 concurrency: int = 8, batch: int = 500,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sessions = sessions
        self.channel = channel
        self.deliver = deliver
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.poll_interval_s = poll_interval_s
        self.clock = clock
        self.batch = batch  # rows claimed per pass: a smaller one lets newly queued answers in sooner
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = False

    def nudge(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the pass under way (never leave a sent message unmarked), then return from run_forever."""
        self._stopping = True
        self._wake.set()

    async def run_forever(self) -> None:
        self._stopping = False
        while not self._stopping:
            self._wake.clear()
            delivered = 0
            try:
                delivered = await self.run_once()
            except Exception:  # a database hiccup must not stop delivery for good
                log.exception("outbox pass for %s failed", self.channel)
            if delivered:  # more may be due at once (a broadcast's next batch): no pause between passes
                continue
            if not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)

    async def run_once(self) -> int:
        """One pass over the due rows; how many were delivered."""
        due = await asyncio.to_thread(self._due)
        by_conversation: dict[str, list[OutboundMessage]] = {}
        for message in due:
            by_conversation.setdefault(message.conversation_id, []).append(message)
        results = await asyncio.gather(*(self._deliver_in_order(messages) for messages in by_conversation.values()))
        return sum(results)

    def _due(self) -> list[OutboundMessage]:
        return store.due(self.sessions, self.channel, self.clock(), limit=self.batch)

    async def _deliver_in_order(self, messages: list[OutboundMessage]) -> int:
        delivered = 0
        async with self._semaphore:
            for message in messages:
                if not await self._deliver_one(message):
                    break
                delivered += 1
        return delivered

    async def _deliver_one(self, message: OutboundMessage) -> bool:
        async def part_sent(platform_id: str) -> None:
            await asyncio.to_thread(self._part_sent, message.id, platform_id)

        try:
            platform_id = await self.deliver(message, part_sent)
        except RetryLater as wait:
            log.warning("%s outbox %s: %s", self.channel, message.idempotency_key, wait)
            await asyncio.to_thread(self._reschedule, message.id, str(wait), wait.after_s, count=False)
            return False
        except PermanentFailure as failure:
            log.error("%s outbox %s failed for good: %s", self.channel, message.idempotency_key, failure)
            await asyncio.to_thread(self._fail, message.id, str(failure))
            return False
        except Exception as error:  # any platform or network error: retry with backoff
            await asyncio.to_thread(self._reschedule, message.id, f"{type(error).__name__}: {error}", None,
                                    count=True)
            return False
        await asyncio.to_thread(self._mark_delivered, message.id, platform_id)
        return True

    def _part_sent(self, row_id: int, platform_id: str) -> None:
        store.part_sent(self.sessions, row_id, platform_id)

    def _mark_delivered(self, row_id: int, platform_id: str) -> None:
        store.mark_sent(self.sessions, row_id, platform_id, self.clock())

    def _reschedule(self, row_id: int, error: str, after_s: float | None, *, count: bool) -> None:
        row = store.retry_later(self.sessions, row_id, error, counted=count, after_s=after_s,
                                max_attempts=self.max_attempts, backoff=(self.base_delay_s, self.max_delay_s),
                                now=self.clock())
        if row.state == OutboxState.FAILED:
            log.error("%s outbox %s gave up after %d attempts: %s", self.channel, row.idempotency_key,
                      row.attempts, error)
        elif count:
            log.warning("%s outbox %s attempt %d failed (%s); next at %s", self.channel, row.idempotency_key,
                        row.attempts, error, row.next_attempt_at)

    def _fail(self, row_id: int, error: str) -> None:
        store.fail(self.sessions, row_id, error, self.clock())
