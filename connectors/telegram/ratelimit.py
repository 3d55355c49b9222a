"""Telegram's flood limits, kept by the sender: about 30 messages a second overall, one a second per chat.

python-telegram-bot's AIORateLimiter limits the whole bot with a leaky bucket that starts full (a first burst of 30
on top of the steady 30 a second, which Telegram answers with 429) and groups per minute, but not private chats. Here
the overall bucket holds one message, dripping at `per_second`, and each private chat gets one message a second. A
429 still pauses every request for its retry_after (the parent's handling).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

MAX_TRACKED_CHATS = 4096  # chats with a limiter; the least recently used are forgotten (their second is long over)


class FloodLimiter(AIORateLimiter):
    def __init__(self, *, per_second: float = 29.0, per_chat_period_s: float = 1.0, max_retries: int = 2) -> None:
        super().__init__(overall_max_rate=1, overall_time_period=1 / per_second, max_retries=max_retries)
        self.per_chat_period_s = per_chat_period_s
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
        if isinstance(chat_id, int | str) and str(chat_id).isdigit():  # a private chat (groups are negative)
            async with self._chat_limiter(int(chat_id)):
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
