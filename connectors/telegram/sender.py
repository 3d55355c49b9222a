"""Delivery to Telegram: the `deliver` coroutine of the Telegram channel's OutboxSender (outbox/sender.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter

from connectors.telegram import render
from connectors.telegram.normalise import chat_of
from outbox.message import OutboundMessage
from outbox.sender import PartSent, PermanentFailure, RetryLater


class TelegramSender:
    """Sends one outbox message from the bot of its account: its parts in order (after those already sent), buttons
    on the last."""

    def __init__(self, bots: Mapping[str, Bot], *, default: str) -> None:
        self.bots = bots  # by account name
        self.default = default  # the account of rows without one (queued before accounts)

    def bot_of(self, message: OutboundMessage) -> Bot:
        name = message.account or self.default
        bot = self.bots.get(name)
        if bot is None:  # an account taken out of the accounts file: its rows cannot leave from another bot
            raise PermanentFailure(f"no Telegram account {name!r} in this connector")
        return bot

    async def __call__(self, message: OutboundMessage, part_sent: PartSent) -> str:
        bot = self.bot_of(message)
        chat_id = chat_of(message.conversation_id)
        parts = render.split_text(message.text or "Please choose:")
        markup = render.keyboard(message.buttons)
        last_id = message.platform_message_id or ""
        try:
            for index in range(message.parts_delivered, len(parts)):
                is_last = index == len(parts) - 1
                sent = await bot.send_message(chat_id, parts[index], reply_markup=markup if is_last else None)
                last_id = str(sent.message_id)
                if not is_last:
                    await part_sent(last_id)
        except RetryAfter as wait:
            after = wait.retry_after
            raise RetryLater(after.total_seconds() if isinstance(after, timedelta) else float(after)) from wait
        except Forbidden as error:  # the citizen blocked the bot
            raise PermanentFailure(str(error)) from error
        except BadRequest as error:
            if "chat not found" in str(error).lower():
                raise PermanentFailure(str(error)) from error
            raise
        return last_id
