"""The X connector process: poll mentions and DMs into the pipeline, deliver the X outbox, resume what is left."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import tweepy
from sqlalchemy.orm import sessionmaker

import database
from accounts import Channel, accounts_of, default_account, load_accounts
from connectors.pipeline import Pipeline
from connectors.registry import x_missing
from connectors.x.client import build_client
from connectors.x.normalise import CHANNEL
from connectors.x.poller import XPoller, call_x
from connectors.x.sender import XSender
from connectors.x.state import XState
from outbox.message import OutboundMessage
from outbox.sender import OutboxSender, PartSent, PermanentFailure
from privacy import build_redactor
from settings import Settings
from transcripts.writer import TranscriptWriter

log = logging.getLogger(__name__)

RESUME_INTERVAL_S = 5.0  # how often messages left unanswered (Rasa was down, a crash) are retried


class XSenders:
    """The X channel's `deliver`: each outbox row leaves from the client of its account (rows from before accounts:
    the default account's)."""

    def __init__(self, senders: dict[str, XSender], *, default: str) -> None:
        self.senders = senders
        self.default = default

    async def __call__(self, message: OutboundMessage, part_sent: PartSent) -> str:
        name = message.account or self.default
        sender = self.senders.get(name)
        if sender is None:  # an account taken out of the accounts file: its rows cannot leave from another one
            raise PermanentFailure(f"no X account {name!r} in this connector")
        return await sender(message, part_sent)


@dataclass
class XConnector:
    """The parts of one running X connector, built from the settings: a client and poller per account, one
    pipeline and one outbox sender for all of them."""

    clients: dict[str, tweepy.Client]  # by account name, the default account first
    sessions: sessionmaker
    state: XState
    pipeline: Pipeline
    sender: OutboxSender
    pollers: list[XPoller]

    @property
    def client(self) -> tweepy.Client:
        """The default account's client."""
        return next(iter(self.clients.values()))

    @property
    def poller(self) -> XPoller:
        """The default account's poller."""
        return self.pollers[0]

    async def run(self, stop: asyncio.Event, poll_interval_s: float) -> None:
        """Poll every account, deliver and resume until `stop` is set."""
        tasks = [asyncio.create_task(poller.run(stop, poll_interval_s), name=f"x-poller-{poller.account}")
                 for poller in self.pollers]
        tasks += [asyncio.create_task(self.sender.run_forever(), name="x-outbox"),
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
    """The X connector on the desk's database for every X account with its credentials; asks X for an account's
    user id unless it is set (X_ACCOUNT_ID, or the account's user_id credential)."""
    sessions = sessions or database.session_factory(database.create_db_engine(settings.resolved_database_url))
    every = accounts_of(load_accounts(settings), Channel.X)
    accounts = [a for a in every if not a.missing_credentials]
    if not accounts:
        raise ValueError(f"X credentials not set: {x_missing(settings)}")
    default = default_account(every, Channel.X)
    accounts.sort(key=lambda a: a is not default)  # the default account first
    state = XState(sessions)
    redactor = build_redactor(settings)
    pipeline = Pipeline(sessions, channel=CHANNEL, rasa_url=settings.rasa_url,
                        writer=TranscriptWriter(sessions, redact=redactor.public_text),
                        duplicate_window_s=settings.duplicate_window_s, numbered_choices=True,
                        rasa_timeout_s=settings.rasa_timeout_s, desk_token=settings.conversation_token)
    clients: dict[str, tweepy.Client] = {}
    senders: dict[str, XSender] = {}
    pollers: list[XPoller] = []
    for account in accounts:
        client = build_client(settings, account)
        account_id = account.credential("user_id")
        if not account_id:
            me = await call_x(client.get_me)
            account_id = str(me.data.id)
            log.info("X connector for @%s (%s, account %s)", me.data.username, account_id, account.name)
        own = state.for_account(account.name)
        clients[account.name] = client
        senders[account.name] = XSender(client, sessions, own, redactor=redactor)
        pollers.append(XPoller(client, own, pipeline.handle, account_id=account_id, account=account.name,
                               app_auth_reads=account.credential("bearer_token") is not None))
    sender = OutboxSender(sessions, channel=CHANNEL,
                          deliver=XSenders(senders, default=default.name if default else accounts[0].name))
    pipeline.on_queued = sender.nudge
    return XConnector(clients, sessions, state, pipeline, sender, pollers)


async def run_x_connector(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or forever): what `citydesk connector x` does."""
    stop = stop or asyncio.Event()
    connector = await build_connector(settings)
    await connector.run(stop, settings.x_poll_interval_s)
