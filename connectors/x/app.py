"""The X connector process: poll mentions and DMs into the pipeline, deliver the X outbox, resume what is left."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import tweepy
from sqlalchemy.orm import sessionmaker

import database
from connectors.pipeline import Pipeline
from connectors.x.client import build_client
from connectors.x.normalise import CHANNEL
from connectors.x.poller import XPoller, call_x
from connectors.x.sender import XSender
from connectors.x.state import XState
from outbox.sender import OutboxSender
from privacy import build_redactor
from settings import Settings
from transcripts.writer import TranscriptWriter

log = logging.getLogger(__name__)

RESUME_INTERVAL_S = 5.0  # how often messages left unanswered (Rasa was down, a crash) are retried


@dataclass
class XConnector:
    """The parts of one running X connector, built from the settings."""

    client: tweepy.Client
    sessions: sessionmaker
    state: XState
    pipeline: Pipeline
    sender: OutboxSender
    poller: XPoller

    async def run(self, stop: asyncio.Event, poll_interval_s: float) -> None:
        """Poll, deliver and resume until `stop` is set."""
        tasks = [asyncio.create_task(self.poller.run(stop, poll_interval_s), name="x-poller"),
                 asyncio.create_task(self.sender.run_forever(), name="x-outbox"),
                 asyncio.create_task(self._resume(stop), name="x-resume")]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.pipeline.aclose()

    async def _resume(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.pipeline.resume_pending()
            except Exception:  # a database hiccup must not stop the connector
                log.exception("resuming pending X messages failed")
            stopped = asyncio.ensure_future(stop.wait())
            next_round = asyncio.ensure_future(self.pipeline.wait_for_next_round(RESUME_INTERVAL_S))
            await asyncio.wait((stopped, next_round), return_when=asyncio.FIRST_COMPLETED)  # sooner once Rasa is back
            for waiting in (stopped, next_round):
                waiting.cancel()


async def build_connector(settings: Settings, *, sessions: sessionmaker | None = None) -> XConnector:
    """The X connector on the desk's database; asks X for the city account's id unless X_ACCOUNT_ID is set."""
    sessions = sessions or database.session_factory(database.create_db_engine(settings.resolved_database_url))
    client = build_client(settings)
    account_id = settings.x_account_id
    if not account_id:
        me = await call_x(client.get_me)
        account_id = str(me.data.id)
        log.info("X connector for @%s (%s)", me.data.username, account_id)
    state = XState(sessions)
    redactor = build_redactor(settings)
    pipeline = Pipeline(sessions, channel=CHANNEL, rasa_url=settings.rasa_url,
                        writer=TranscriptWriter(sessions, redact=redactor.public_text),
                        duplicate_window_s=settings.duplicate_window_s, numbered_choices=True,
                        rasa_timeout_s=settings.rasa_timeout_s, desk_token=settings.conversation_token)
    sender = OutboxSender(sessions, channel=CHANNEL, deliver=XSender(client, sessions, state, redactor=redactor))
    pipeline.on_queued = sender.nudge
    bearer = settings.x_bearer_token is not None and bool(settings.x_bearer_token.get_secret_value())
    poller = XPoller(client, state, pipeline.handle, account_id=account_id, app_auth_reads=bearer)
    return XConnector(client, sessions, state, pipeline, sender, poller)


async def run_x_connector(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or forever): what `citydesk connector x` does."""
    stop = stop or asyncio.Event()
    connector = await build_connector(settings)
    await connector.run(stop, settings.x_poll_interval_s)
