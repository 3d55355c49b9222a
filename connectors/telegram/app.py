"""The Telegram connector process: python-telegram-bot's Application on the shared pipeline and outbox (the same
shape as the X connector: build_connector, then run; delivery in sender.py, translation in normalise.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

import database
from broadcasts.service import remove_undeliverable
from broadcasts.templates import load_templates
from connectors.pipeline import Pipeline
from connectors.telegram import render
from connectors.telegram.normalise import CHANNEL, conversation_of, inbound_of
from connectors.telegram.ratelimit import FloodLimiter
from connectors.telegram.sender import TelegramSender
from outbox.message import OutboundMessage
from outbox.sender import OutboxSender, PartSent, PermanentFailure
from privacy import build_redactor
from settings import Settings
from transcripts.writer import TranscriptWriter

log = logging.getLogger(__name__)

RESUME_INTERVAL_S = 5.0
CONCURRENT_UPDATES = 64  # the pipeline keeps each conversation in order; different chats run side by side
RATE_LIMIT_RETRIES = 2  # the rate limiter waits out this many 429s itself; then the outbox reschedules
SENDER_CONCURRENCY = 16  # requests in flight; the flood limiter sets the pace (a broadcast's many chats at once)
SENDER_BATCH = 64  # rows per pass, about two seconds of a broadcast: an answer queued meanwhile waits no longer


def build_application(settings: Settings) -> Application:
    """The bot: token, Bot API address (a fake in tests), rate limiter, one handler for every update."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise ValueError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in .env")
    application = (Application.builder().token(settings.telegram_bot_token.get_secret_value())
                   .base_url(settings.telegram_base_url)
                   .rate_limiter(FloodLimiter(per_second=settings.telegram_messages_per_s,
                                              max_retries=RATE_LIMIT_RETRIES))
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
    log.error("error while handling update %s", getattr(update, "update_id", type(update).__name__),
              exc_info=context.error)


class RemovingBlockedChats:
    """The sender's deliver, which also ends the alert subscriptions of a chat Telegram refuses for good (the bot
    was blocked, the chat deleted), so that no later alert is tried there again."""

    def __init__(self, deliver: TelegramSender, sessions: sessionmaker) -> None:
        self.deliver = deliver
        self.sessions = sessions

    async def __call__(self, message: OutboundMessage, part_sent: PartSent) -> str:
        try:
            return await self.deliver(message, part_sent)
        except PermanentFailure as failure:
            await asyncio.to_thread(remove_undeliverable, self.sessions, channel=CHANNEL,
                                    address=message.conversation_id, error=str(failure), now=datetime.now(UTC))
            raise


@dataclass
class TelegramConnector:
    """The parts of one running Telegram connector, built from the settings (build_connector)."""

    settings: Settings
    application: Application
    sessions: sessionmaker
    pipeline: Pipeline
    sender: OutboxSender

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
            updater = self.application.updater  # build_application's builder makes one
            if self.settings.telegram_webhook_url:
                tasks.append(asyncio.create_task(serve_webhook(self, stop)))
                mode = f"webhook {self.settings.telegram_webhook_url}"
            else:
                if updater is None:
                    raise RuntimeError("long polling needs the Application's Updater")
                await self.application.bot.delete_webhook()
                await updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=10)
                mode = "long polling"
            log.info("Telegram connector running (%s) as @%s", mode, self.application.bot.username)
            print(f"Telegram connector running ({mode}) as @{self.application.bot.username}", flush=True)
            await stop.wait()
            if updater is not None and updater.running:
                await updater.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.sender.stop()
            await asyncio.wait_for(sending, timeout=60)
            await self.application.stop()
        await self.pipeline.aclose()


def build_connector(settings: Settings, *, sessions: sessionmaker | None = None) -> TelegramConnector:
    """The Telegram connector on the desk's database: the bot, the pipeline and the outbox sender."""
    if settings.telegram_webhook_url and not (settings.telegram_webhook_secret
                                              and settings.telegram_webhook_secret.get_secret_value()):
        raise ValueError("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: webhook mode needs "
                         "a secret token so that forged deliveries can be refused")
    application = build_application(settings)
    sessions = sessions or database.open(settings, migrate=False)
    writer = TranscriptWriter(sessions, redact=build_redactor(settings).public_text)
    pipeline = Pipeline(sessions, channel=CHANNEL, rasa_url=settings.rasa_url, writer=writer,
                        duplicate_window_s=settings.duplicate_window_s, rasa_timeout_s=settings.rasa_timeout_s,
                        desk_token=settings.conversation_token,
                        subscription_topics=tuple(load_templates(settings.broadcast_templates_file)))
    sender = OutboxSender(sessions, channel=CHANNEL, deliver=RemovingBlockedChats(TelegramSender(application.bot),
                                                                                  sessions),
                          concurrency=SENDER_CONCURRENCY, batch=SENDER_BATCH)
    pipeline.on_queued = sender.nudge
    connector = TelegramConnector(settings, application, sessions, pipeline, sender)
    application.bot_data["connector"] = connector
    return connector


async def run_telegram_connector(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """`citydesk connector telegram`: bring the database up to date, run until `stop` is set (else SIGTERM or
    Ctrl+C)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    connector = build_connector(settings, sessions=database.open(settings))
    await connector.run(stop)
