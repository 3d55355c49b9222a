"""The Telegram connector process: python-telegram-bot's Application on the shared pipeline and outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from telegram import Update
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

import database
from connectors.message import OutboundMessage
from connectors.outbox import OutboxSender, PartSent, PermanentFailure, RetryLater
from connectors.pipeline import Pipeline
from connectors.telegram import render
from connectors.telegram.normalize import CHANNEL, chat_of, conversation_of, inbound_of
from privacy import build_redactor
from settings import Settings
from transcripts.writer import TranscriptWriter

log = logging.getLogger(__name__)

RESUME_INTERVAL_S = 5.0
CONCURRENT_UPDATES = 64  # the pipeline keeps each conversation in order; different chats run side by side
RATE_LIMIT_RETRIES = 2  # the rate limiter waits out this many 429s itself; then the outbox reschedules


def build_application(settings: Settings) -> Application:
    """The bot: token, Bot API address (a fake in tests), rate limiter, one handler for every update."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise ValueError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in .env")
    application = (Application.builder().token(settings.telegram_bot_token.get_secret_value())
                   .base_url(settings.telegram_base_url)
                   .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
                   .concurrent_updates(CONCURRENT_UPDATES)
                   .build())
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any update: translate it and hand it to the pipeline; the outbox delivers the replies."""
    connector: TelegramConnector = context.application.bot_data["connector"]
    await connector.receive(update)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log; the update's record stays unfinished and the resume loop takes it up again."""
    log.error("error while handling update %s", getattr(update, "update_id", update), exc_info=context.error)


class TelegramConnector:
    """One process: the Application (polling or webhook), the pipeline, the outbox sender, the resume loop."""

    def __init__(self, settings: Settings) -> None:
        if settings.telegram_webhook_url and not (settings.telegram_webhook_secret
                                                  and settings.telegram_webhook_secret.get_secret_value()):
            raise ValueError("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: webhook mode needs "
                             "a secret token so that forged deliveries can be refused")
        self.settings = settings
        self.sessions = database.session_factory(database.create_db_engine(settings.resolved_database_url))
        writer = TranscriptWriter(self.sessions, redact=build_redactor(settings).public_text)
        self.pipeline = Pipeline(self.sessions, channel=CHANNEL, rasa_url=settings.rasa_url, writer=writer,
                                 duplicate_window_s=settings.duplicate_window_s, rasa_timeout_s=settings.rasa_timeout_s)
        self.sender = OutboxSender(self.sessions, channel=CHANNEL, deliver=self.deliver)
        self.pipeline.on_queued = self.sender.nudge
        self.application = build_application(settings)
        self.application.bot_data["connector"] = self

    async def receive(self, update: Update) -> None:
        payload = None
        if update.callback_query is not None:
            query = update.callback_query
            with contextlib.suppress(Exception):  # only stops the button's spinner; never worth failing for
                await query.answer()
            choice_id = render.choice_id_of(query.data or "")
            if choice_id is not None and query.message is not None:
                payload = await asyncio.to_thread(self.pipeline.button_payload,
                                                  conversation_of(query.message.chat.id), choice_id)
                if payload is None:
                    log.warning("callback %s names an unknown choice %s", query.id, query.data)
                    return
        message = inbound_of(update, button_payload=payload)
        if message is not None:
            await self.pipeline.handle(message)

    async def deliver(self, message: OutboundMessage, part_sent: PartSent) -> str:
        """Send one outbox message: its parts in order (after those already sent), buttons on the last."""
        chat_id = chat_of(message.conversation_id)
        parts = render.split_text(message.text or "Please choose:")
        markup = render.keyboard(message.buttons)
        last_id = message.platform_message_id or ""
        try:
            for index in range(message.parts_delivered, len(parts)):
                is_last = index == len(parts) - 1
                sent = await self.application.bot.send_message(chat_id, parts[index],
                                                               reply_markup=markup if is_last else None)
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

    async def resume_forever(self) -> None:
        while True:
            try:
                await self.pipeline.resume_pending()
            except Exception:  # keep resuming: the next pass may succeed
                log.exception("resuming pending Telegram messages failed")
            await asyncio.sleep(RESUME_INTERVAL_S)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set: polling, or the webhook server when TELEGRAM_WEBHOOK_URL is set."""
        from connectors.telegram.webhook import serve_webhook

        async with self.application:
            await self.application.start()
            sending = asyncio.create_task(self.sender.run_forever())
            tasks = [asyncio.create_task(self.resume_forever())]
            if self.settings.telegram_webhook_url:
                tasks.append(asyncio.create_task(serve_webhook(self, stop)))
                mode = f"webhook {self.settings.telegram_webhook_url}"
            else:
                await self.application.bot.delete_webhook()
                await self.application.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=10)
                mode = "long polling"
            log.info("Telegram connector running (%s) as @%s", mode, self.application.bot.username)
            print(f"Telegram connector running ({mode}) as @{self.application.bot.username}", flush=True)
            await stop.wait()
            if self.application.updater.running:
                await self.application.updater.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.sender.stop()
            await asyncio.wait_for(sending, timeout=60)
            await self.application.stop()
        await self.pipeline.aclose()


def run(settings: Settings) -> None:
    """`citydesk connector telegram`: bring the database up to date, run until SIGTERM or Ctrl+C."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise ValueError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in .env")
    database.upgrade(settings.resolved_database_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await TelegramConnector(settings).run(stop)

    asyncio.run(main())
