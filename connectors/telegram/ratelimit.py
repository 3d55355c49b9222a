"""Telegram's flood limits, kept by the sender: about 30 messages a second overall, one a second per chat.

python-telegram-bot's AIORateLimiter limits the whole bot with a leaky bucket, which either bursts (a full bucket of
30 on top of the steady 30 a second, which Telegram answers with 429) or, sized to one message, loses the time of
every late wake-up of a loaded event loop (about 18 a second measured on a busy machine). Here the overall limit is a
sliding window, as Telegram counts: at most `per_second` messages in any one second, so a late wake-up costs nothing.
Each private chat gets one message a second. A 429 still pauses every request for its retry_after (the parent's
handling, which also limits groups per minute).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

MAX_TRACKED_CHATS = 4096  # chats with a limiter; the least recently used are forgotten (their second is long over)


class SlidingWindow:
    """At most `limit` acquisitions in any `window_s` seconds; waiters go in turn."""

    def __init__(self, limit: int, window_s: float = 1.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                while self._times and now - self._times[0] >= self.window_s:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return
                await asyncio.sleep(self._times[0] + self.window_s - now)


class FloodLimiter(AIORateLimiter):
    def __init__(self, *, per_second: int = 28, per_chat_period_s: float = 1.0, max_retries: int = 2) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)  # the window below replaces its bucket
        self.per_chat_period_s = per_chat_period_s
        self._window = SlidingWindow(per_second)
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.pop(chat_id, None) or AsyncLimiter(1, self.per_chat_period_s)
        self._chats[chat_id] = limiter
        while len(self._chats) > MAX_TRACKED_CHATS:
            self._chats.popitem(last=False)
        return limiter

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        if chat_id is None:  # getUpdates, getMe, ...: not messages
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        if str(chat_id).isdigit():  # a private chat (groups and channels are negative or @names)
            async with self._chat_limiter(int(chat_id)):
                await self._window.acquire()
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        await self._window.acquire()
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
