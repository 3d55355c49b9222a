"""The Telegram connector process: python-telegram-bot's Application on the shared pipeline and outbox (the same
shape as the X connector: build_connector, then run; delivery in sender.py, translation in normalise.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

import database
from accounts import Account, Channel, accounts_of, default_account, load_accounts
from broadcasts.service import remove_undeliverable
from broadcasts.templates import load_templates
from connectors.pipeline import Pipeline
from connectors.registry import telegram_missing
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


def build_application(settings: Settings, account: Account) -> Application:
    """The bot of one account: token, Bot API address (a fake in tests), rate limiter, one handler for every update."""
    token = account.credential("token")
    if token is None:
        raise ValueError(f"the Telegram account {account.name!r} has no token: set "
                         f"{account.credential_env.get('token', 'TELEGRAM_BOT_TOKEN')} (a bot from @BotFather)")
    application = (Application.builder().token(token)
                   .base_url(settings.telegram_base_url)
                   .rate_limiter(FloodLimiter(per_second=settings.telegram_messages_per_s,
                                              max_retries=RATE_LIMIT_RETRIES))
                   .concurrent_updates(CONCURRENT_UPDATES)
                   .build())
    application.bot_data["account"] = account.name
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any update: translate it and hand it to the pipeline; the outbox delivers the replies."""
    connector: TelegramConnector = context.application.bot_data["connector"]
    await connector.receive(update, account=context.application.bot_data["account"])


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
    """The parts of one running Telegram connector, built from the settings (build_connector): one Application per
    account of the channel, one pipeline and one outbox sender for all of them."""

    settings: Settings
    applications: dict[str, Application]  # by account name, the default account first
    sessions: sessionmaker
    pipeline: Pipeline
    sender: OutboxSender
    accounts: list[Account] = field(default_factory=list)

    @property
    def application(self) -> Application:
        """The default account's Application."""
        return next(iter(self.applications.values()))

    async def receive(self, update: Update, *, account: str | None = None) -> None:
        account = account or next(iter(self.applications))
        payload = None
        if update.callback_query is not None:
            query = update.callback_query
            with contextlib.suppress(Exception):  # only stops the button's spinner; never worth failing for
                await query.answer()
            choice_id = render.choice_id_of(query.data or "")
            if choice_id is not None and query.message is not None:
                payload = await asyncio.to_thread(self.pipeline.button_payload,
                                                  conversation_of(query.message.chat.id, account), choice_id)
                if payload is None:
                    log.warning("callback %s names an unknown choice %s", query.id, query.data)
                    return
        message = inbound_of(update, button_payload=payload, account=account)
        if message is not None:
            await self.pipeline.handle(message)

    async def resume_forever(self) -> None:
        while True:
            try:
                await self.pipeline.resume_pending()
            except Exception:  # keep resuming: the next pass may succeed
                log.exception("resuming pending Telegram messages failed")
            await self.pipeline.wait_for_next_round(RESUME_INTERVAL_S)  # sooner once Rasa is back

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set: polling every account's bot, or the webhook server when TELEGRAM_WEBHOOK_URL is
        set."""
        from connectors.telegram.webhook import serve_webhook

        async with contextlib.AsyncExitStack() as running:
            for application in self.applications.values():
                await running.enter_async_context(application)
                await application.start()
            sending = asyncio.create_task(self.sender.run_forever())
            tasks = [asyncio.create_task(self.resume_forever())]
            if self.settings.telegram_webhook_url:
                tasks.append(asyncio.create_task(serve_webhook(self, stop)))
                mode = f"webhook {self.settings.telegram_webhook_url}"
            else:
                for application in self.applications.values():
                    if application.updater is None:  # build_application's builder makes one
                        raise RuntimeError("long polling needs the Application's Updater")
                    await application.bot.delete_webhook()
                    await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=10)
                mode = "long polling"
            bots = ", ".join(f"@{a.bot.username} ({name})" for name, a in self.applications.items())
            log.info("Telegram connector running (%s) as %s", mode, bots)
            print(f"Telegram connector running ({mode}) as {bots}", flush=True)
            await stop.wait()
            for application in self.applications.values():
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.sender.stop()
            await asyncio.wait_for(sending, timeout=60)
            for application in self.applications.values():
                await application.stop()
        await self.pipeline.aclose()


def build_connector(settings: Settings, *, sessions: sessionmaker | None = None) -> TelegramConnector:
    """The Telegram connector on the desk's database: a bot per account, the pipeline and the outbox sender."""
    if settings.telegram_webhook_url and not (settings.telegram_webhook_secret
                                              and settings.telegram_webhook_secret.get_secret_value()):
        raise ValueError("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: webhook mode needs "
                         "a secret token so that forged deliveries can be refused")
    every = accounts_of(load_accounts(settings), Channel.TELEGRAM)
    accounts = [a for a in every if a.credential("token")]
    if not accounts:
        raise ValueError(f"{telegram_missing(settings)}: create a bot with @BotFather and put its token in .env")
    default = default_account(every, Channel.TELEGRAM)
    accounts.sort(key=lambda a: a is not default)  # the default account first
    applications = {account.name: build_application(settings, account) for account in accounts}
    sessions = sessions or database.open(settings, migrate=False)
    writer = TranscriptWriter(sessions, redact=build_redactor(settings).public_text)
    pipeline = Pipeline(sessions, channel=CHANNEL, rasa_url=settings.rasa_url, writer=writer,
                        duplicate_window_s=settings.duplicate_window_s, rasa_timeout_s=settings.rasa_timeout_s,
                        desk_token=settings.conversation_token,
                        subscription_topics=tuple(load_templates(settings.broadcast_templates_file)))
    deliver = TelegramSender({name: a.bot for name, a in applications.items()},
                             default=default.name if default else accounts[0].name)
    sender = OutboxSender(sessions, channel=CHANNEL, deliver=RemovingBlockedChats(deliver, sessions),
                          concurrency=SENDER_CONCURRENCY, batch=SENDER_BATCH)
    pipeline.on_queued = sender.nudge
    connector = TelegramConnector(settings, applications, sessions, pipeline, sender, accounts)
    for application in applications.values():
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
