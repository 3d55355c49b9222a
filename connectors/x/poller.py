"""Polls the city account's mentions and direct messages; each new one goes to the pipeline once, oldest first.

Where it stands is durable (connector_state): `mentions_since_id` (X's since_id) and `dm_last_event_id`, each
advanced once the pipeline has taken every message of a poll, so a restart never skips one; the pipeline's
platform-id de-duplication drops the ones a crash in between makes come again. A 429 is waited out until
x-rate-limit-reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy

from connectors.message import InboundMessage
from connectors.x.normalise import DM_EVENT_FIELDS, TWEET_FIELDS, dm_to_message, mention_to_message
from connectors.x.state import XState

log = logging.getLogger(__name__)

# a first start (no since_id yet) answers mentions and DMs of the last hour, not the account's whole history
FIRST_RUN_BACKLOG = timedelta(hours=1)
MAX_PAGES = 5  # 500 mentions or DMs per poll; older ones beyond that are logged as skipped
RATE_LIMIT_RETRIES = 5
BACKOFF_CAP_S = 900.0  # X's rate-limit windows are 15 minutes

Handle = Callable[[InboundMessage], Awaitable[Any]]
Sleep = Callable[[float], Awaitable[None]]


def rate_limit_wait(error: tweepy.TooManyRequests, attempt: int, *, now: float | None = None) -> float:
    """Seconds to wait after a 429: until x-rate-limit-reset (plus a second), else exponential backoff."""
    if error.reset_time is not None:
        return max(1.0, error.reset_time - (now if now is not None else time.time()) + 1)
    return min(BACKOFF_CAP_S, 15.0 * 2 ** attempt)


async def call_x(function: Callable[..., Any], *args: Any, sleep: Sleep = asyncio.sleep, **kwargs: Any) -> Any:
    """One tweepy call in a worker thread; a 429 is waited out and retried (it never reaches the caller's loop)."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except tweepy.TooManyRequests as error:
            if attempt == RATE_LIMIT_RETRIES:
                raise
            wait = rate_limit_wait(error, attempt)
            log.warning("X rate limit on %s: waiting %.0f s", getattr(function, "__name__", function), wait)
            await sleep(wait)
    raise AssertionError("unreachable")


class XPoller:
    """Fetches what is new since the last poll and hands each message to `handle` (the pipeline)."""

    def __init__(self, client: tweepy.Client, state: XState, handle: Handle, *, account_id: str,
                 app_auth_reads: bool = False, concurrency: int = 8, sleep: Sleep = asyncio.sleep,
                 account: str | None = None) -> None:
        self.client = client
        self.account = account  # the city's account (accounts file) whose mentions and DMs these are
        self.state = state
        self.handle = handle
        self.account_id = str(account_id)
        self.user_auth = not app_auth_reads  # mentions can be read with the bearer token (its own rate limit)
        self.concurrency = concurrency  # conversations handed to the pipeline at once
        self.sleep = sleep

    async def poll_once(self) -> int:
        """One round of mentions then DMs; the number of messages handed to the pipeline."""
        return await self.poll_mentions() + await self.poll_dms()

    async def poll_mentions(self) -> int:
        since = self.state.get("mentions_since_id")
        params: dict[str, Any] = {"expansions": ["author_id", "referenced_tweets.id"], "tweet_fields": TWEET_FIELDS,
                                  "max_results": 100, "user_auth": self.user_auth}
        if since:
            params["since_id"] = since
        else:
            params["start_time"] = datetime.now(UTC) - FIRST_RUN_BACKLOG
        tweets: list[tweepy.Tweet] = []
        token = None
        for _ in range(MAX_PAGES):
            response = await call_x(self.client.get_users_mentions, self.account_id, pagination_token=token,
                                    sleep=self.sleep, **params)
            tweets += response.data or []
            if not (token := response.meta.get("next_token")):
                break
        else:
            log.warning("more than %d mentions since %s: the oldest were skipped", len(tweets), since)
        messages = [mention_to_message(t, account_id=self.account_id, account=self.account)
                    for t in sorted(tweets, key=lambda t: t.id)]
        handled = await self._hand_over([m for m in messages if m is not None])
        if tweets:
            self.state.advance("mentions_since_id", str(max(t.id for t in tweets)))
        return handled

    async def poll_dms(self) -> int:
        last = self.state.get("dm_last_event_id")
        oldest_wanted = datetime.now(UTC) - FIRST_RUN_BACKLOG
        events: list[tweepy.DirectMessageEvent] = []
        token = None
        for _ in range(MAX_PAGES):
            response = await call_x(self.client.get_direct_message_events, event_types="MessageCreate",
                                    dm_event_fields=DM_EVENT_FIELDS, max_results=100, pagination_token=token,
                                    sleep=self.sleep)
            page = response.data or []
            fresh = [e for e in page if self._is_new_dm(e, last, oldest_wanted)]
            events += fresh
            # newest first: a page that reaches what was handled before is the last one needed
            if len(fresh) < len(page) or not (token := response.meta.get("next_token")):
                break
        messages = [dm_to_message(e, account_id=self.account_id, account=self.account)
                    for e in sorted(events, key=lambda e: e.id)]
        handled = await self._hand_over([m for m in messages if m is not None])
        if events:
            self.state.advance("dm_last_event_id", str(max(e.id for e in events)))
        return handled

    async def _hand_over(self, messages: list[InboundMessage]) -> int:
        """Each message to the pipeline: conversations side by side, each conversation's messages in order.

        Raises the first failure after all conversations finished, so the position is not advanced past a
        message the pipeline did not take (taken ones come again and are dropped as duplicates).
        """
        by_conversation: dict[str, list[InboundMessage]] = {}
        for message in messages:
            by_conversation.setdefault(message.conversation_id, []).append(message)
        limit = asyncio.Semaphore(self.concurrency)

        async def one_conversation(queue: list[InboundMessage]) -> None:
            async with limit:
                for message in queue:
                    await self.handle(message)

        results = await asyncio.gather(*(one_conversation(q) for q in by_conversation.values()),
                                       return_exceptions=True)
        if failures := [r for r in results if isinstance(r, BaseException)]:
            raise failures[0]
        return len(messages)

    @staticmethod
    def _is_new_dm(event: tweepy.DirectMessageEvent, last: str | None, oldest_wanted: datetime) -> bool:
        if last is not None:
            return int(event.id) > int(last)
        return event.created_at is None or event.created_at >= oldest_wanted

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        """Poll every `interval_s` until `stop` is set; errors are logged and backed off, never fatal."""
        failures = 0
        while not stop.is_set():
            try:
                await self.poll_once()
                failures = 0
            except (tweepy.TweepyException, requests.RequestException) as error:
                failures += 1
                log.error("X poll of %s failed (%s); retrying with backoff", self.account or "x", error)
            delay = interval_s if not failures else min(BACKOFF_CAP_S, interval_s * 2 ** failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
