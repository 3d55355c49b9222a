"""Telegram's flood limits, kept by the sender: about 30 messages a second overall, one a second per private chat,
twenty a minute per group or channel, and a 429's retry_after.

python-telegram-bot's AIORateLimiter limits the bot with a leaky bucket, which either bursts (a full bucket of 30 on
top of the steady 30 a second, which Telegram answers with 429) or, sized to one message, loses the time of every
late wake-up of a loaded event loop; and its retries after a 429 bypass the bucket, so every request paused by a 429
goes out at once when the pause ends, and draws the next 429. Measured against the local Bot API with 10,000
subscribers on a busy machine: 16 messages a second and 362 429s. Here the overall limit is a sliding window, as
Telegram counts (at most `per_second` messages in any one second), so a late wake-up costs nothing; a 429 pauses the
window for its retry_after, and a retry takes its turn in the window like any message.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

MAX_TRACKED_CHATS = 4096  # chats with a limiter; the least recently used are forgotten (their second is long over)
GROUP_MESSAGES_PER_MINUTE = 20
BURST = 3  # messages let out together at most


class SlidingWindow:
    """At most `limit` acquisitions in any `window_s` seconds, none while paused; waiters go in turn, and a caller
    sends at once after its turn (a turn is never held across a pause, which would let a burst out after it)."""

    def __init__(self, limit: int, window_s: float = 1.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._times: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Telegram said 429: no turn for `seconds`."""
        self._paused_until = max(self._paused_until, asyncio.get_running_loop().time() + seconds)

    async def acquire(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                while self._times and now - self._times[0] >= self.window_s:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return
                await asyncio.sleep(self._times[0] + self.window_s - now)


class FloodLimiter(BaseRateLimiter[int]):
    def __init__(self, *, per_second: int = 27, per_chat_period_s: float = 1.0, max_retries: int = 2) -> None:
        self.per_chat_period_s = per_chat_period_s
        self.max_retries = max_retries
        # BURST messages in any BURST/per_second seconds: at most `per_second` in any second all the same (for a
        # multiple of BURST), and never a whole second's messages at once, which the receiver's own delays would
        # bunch with the next second's
        self._window = SlidingWindow(BURST, BURST / per_second)
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _chat_limit(self, chat_id: Any) -> AbstractAsyncContextManager[Any]:
        try:
            key = int(chat_id)
        except (TypeError, ValueError):
            return nullcontext()  # an @channel name: the overall window only
        limiter = self._chats.pop(key, None) or (AsyncLimiter(1, self.per_chat_period_s) if key > 0
                                                 else AsyncLimiter(GROUP_MESSAGES_PER_MINUTE, 60))
        self._chats[key] = limiter
        while len(self._chats) > MAX_TRACKED_CHATS:
            self._chats.popitem(last=False)
        return limiter

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        for attempt in itertools.count():
            try:
                if chat_id is None:  # getUpdates, getMe, ...: not messages
                    return await callback(*args, **kwargs)
                async with self._chat_limit(chat_id):
                    await self._window.acquire()
                    return await callback(*args, **kwargs)
            except RetryAfter as wait:
                if attempt >= retries:
                    raise
                after = wait.retry_after
                pause = (after.total_seconds() if isinstance(after, timedelta) else float(after)) + 0.1
                log.info("Telegram asked to wait %.1f s (429): no message goes out until then", pause)
                self._window.pause(pause)
        raise AssertionError("unreachable")
