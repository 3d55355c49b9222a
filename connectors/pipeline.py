"""The one inbound pipeline every channel uses.

    normalise (the connector) → de-duplicate → record (transcript) → Rasa → record replies + queue them in the
    outbox (one transaction) → the channel's OutboxSender delivers them (outbox/sender.py).

How a connector uses it:

    sessions = database.session_factory(database.create_db_engine(settings.resolved_database_url))
    pipeline = Pipeline(sessions, channel="telegram", rasa_url=settings.rasa_url,
                        duplicate_window_s=settings.duplicate_window_s, numbered_choices=False)
    sender = OutboxSender(sessions, channel="telegram", deliver=my_deliver)   # outbox/sender.py
    pipeline.on_queued = sender.nudge           # deliver at once instead of at the next poll
    ...
    result = await pipeline.handle(InboundMessage(channel="telegram", platform_message_id=str(update_id),
                                                  conversation_id=conversation_id_for("telegram", chat_id), ...))
    # result.outcome: "answered" | "duplicate" | "pending" (Rasa down: recorded, retried by resume_pending)
    ...
    await pipeline.resume_pending()             # at start and every few seconds: finishes what a crash or an
                                                # outage left (recorded but not answered)

The connector only translates platform ↔ InboundMessage/OutboundMessage and sends; it holds no business logic.
Channels without buttons pass numbered_choices=True: a later reply "1", "2", ... in the conversation is
mapped to the payload of the button with that number (kept durably in button_choices). Channels with
buttons whose payloads may be too long for the platform (Telegram: 64 bytes) use the `choice_id` of the
outbox message's buttons and `button_payload(conversation_id, choice_id)`. Rasa gets metadata
{"channel", "platform_message_id", "public", "location": {"lat", "long"}} (the conversation's last location),
and "desk_token": the conversation's own desk token (`desk_token(conversation_id)`, settings.conversation_token),
which the actions send back to the desk: the action server holds no token of its own (desk/api/internal_auth.py).
Outbox idempotency keys are "in-<inbound id>-<reply index>": a message handled twice is never answered twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcasts import subscriptions
from connectors import dedupe, rasa, replies
from connectors.message import InboundMessage
from connectors.models import ButtonChoice, InboundRecord
from handoff.locations import locate_new_case, locate_open_case
from outbox import store as outbox
from outbox.message import Button, OutboundMessage, outbound_of
from transcripts.writer import TranscriptWriter

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4_000  # what the web chat accepted before; Rasa's NLU and the desk read far less
RASA_RETRY_BASE_S = 2.0
RASA_RETRY_CAP_S = 10.0  # a message waiting for the assistant is tried again within seconds of its return
MAX_RASA_ATTEMPTS = 12  # and it is given up (the citizen told so) only after this many attempts
GIVE_UP_AFTER_S = 15 * 60  # and this long: an outage of a few minutes loses nothing
RESUME_INTERVAL_S = 3.0  # how often a process's resume worker looks for messages left unanswered
RASA_PROBE_S = 0.5  # while Rasa is down, how often the resume worker looks whether it is back
RESUME_CONCURRENCY = 4  # conversations resumed at once (each in order)
# PostgreSQL: how long a process that took an unanswered message to answer holds it (well above the Rasa timeout)
PENDING_LEASE_S = 300.0


@dataclass(frozen=True)
class HandleResult:
    outcome: Literal["answered", "duplicate", "pending"]
    inbound_id: int
    replies: list[OutboundMessage] = field(default_factory=list)
    reason: str = ""
    assistant_down: bool = False  # pending because Rasa could not be reached at all


class Pipeline:
    """De-duplicate, record, ask Rasa, record and queue replies, for one channel."""

    def __init__(self, sessions: sessionmaker, *, channel: str, rasa_url: str, writer: TranscriptWriter,
                 duplicate_window_s: float = 600, numbered_choices: bool = False, rasa_timeout_s: float = 30.0,
                 service_phone: str = "311", desk_token: Callable[[str], str] | None = None,
                 acknowledge_pending: bool = True, subscription_topics: tuple[str, ...] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sessions = sessions
        self.channel = channel
        self.rasa_url = rasa_url
        self.duplicate_window_s = duplicate_window_s
        self.numbered_choices = numbered_choices
        self.service_phone = service_phone
        self.desk_token = desk_token
        # a message kept while the assistant is down gets one "received, the answer follows" reply (the web chat
        # says it in its HTTP response instead)
        self.acknowledge_pending = acknowledge_pending
        self.writer = writer
        self.clock = clock
        self.on_queued: Callable[[], None] | None = None
        # /subscribe and /unsubscribe (emergency alerts) are answered here, with these topics; None: not offered
        self.subscription_topics = subscription_topics
        self.rasa_timeout_s = rasa_timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.assistant_down = False  # the last resume round found Rasa unreachable

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def _http(self) -> httpx.AsyncClient:
        """The running loop's HTTP client: `handle` and `resume_pending` bind the loop before they answer."""
        if self._client is None:
            raise RuntimeError("the pipeline is not bound to an event loop")
        return self._client

    def _bind_loop(self) -> None:
        """The HTTP client and the locks belong to one event loop; a new loop (tests, a restart) gets new ones."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._client = httpx.AsyncClient(timeout=self.rasa_timeout_s)
            self._locks = defaultdict(asyncio.Lock)

    async def handle(self, message: InboundMessage, *, deliver_inline: bool = False) -> HandleResult:
        """Take one message through the pipeline. deliver_inline: the caller delivers the replies itself (the
        web chat's HTTP response), so they are queued already marked delivered.

        Messages of a conversation are answered in order: earlier ones still waiting (the assistant was down) are
        answered first (their replies queued); while one of them still cannot be, this one waits too ("pending").
        """
        if message.channel != self.channel:
            raise ValueError(f"a {message.channel} message given to the {self.channel} pipeline")
        self._bind_loop()
        async with self._locks[message.conversation_id]:
            claim = await asyncio.to_thread(self._claim_and_record, message)
            if claim.outcome == "duplicate":
                log.info("dropped duplicate %s message %s: %s", self.channel, message.platform_message_id,
                         claim.reason)
                return HandleResult("duplicate", claim.record.id, reason=claim.reason)
            for earlier_id in await asyncio.to_thread(self._unfinished, message.conversation_id, claim.record.id):
                earlier = await asyncio.to_thread(self._record_if_needed, earlier_id)
                if earlier.state == "recorded" and (await self._answer(earlier)).outcome == "pending":
                    reason = f"waits for the earlier message {earlier.platform_message_id}"
                    await asyncio.to_thread(self._wait_behind, claim.record.id, reason)
                    await self._acknowledge(claim.record.id)
                    return HandleResult("pending", claim.record.id, reason=reason)
            return await self._answer(claim.record, deliver_inline=deliver_inline)

    async def resume_pending(self) -> int:
        """Finish this channel's messages left recorded but unanswered (crash, Rasa down); how many were.

        Per conversation in order, from its oldest unfinished message once that one is due, stopping at the first
        that still cannot be answered; a few conversations at once. Rasa unreachable ends the round."""
        self._bind_loop()
        queues = await asyncio.to_thread(self._pending, self.clock())
        finished = 0
        down = asyncio.Event()
        slots = asyncio.Semaphore(RESUME_CONCURRENCY)

        async def resume(conversation_id: str, ids: list[int]) -> None:
            nonlocal finished
            async with slots, self._locks[conversation_id]:
                for inbound_id in ids:
                    if down.is_set():
                        return
                    record = await asyncio.to_thread(self._record_if_needed, inbound_id)
                    if record.state != "recorded":
                        continue  # answered meanwhile (the citizen's retry, another worker)
                    result = await self._answer(record)
                    if result.outcome == "pending":
                        if result.assistant_down:
                            down.set()
                        return
                    finished += 1

        await asyncio.gather(*(resume(c, ids) for c, ids in queues.items()))
        self.assistant_down = down.is_set()
        return finished

    async def resume_forever(self, interval_s: float = RESUME_INTERVAL_S) -> None:
        """The resume worker: at once, then every `interval_s` until cancelled, and as soon as Rasa is back when it
        was down; a failed round is logged."""
        while True:
            try:
                if resumed := await self.resume_pending():
                    log.info("answered %d %s message(s) left waiting", resumed, self.channel)
            except Exception:
                log.exception("resuming pending %s messages failed", self.channel)
            await self.wait_for_next_round(interval_s)

    async def wait_for_next_round(self, interval_s: float) -> None:
        """`interval_s`, or less: while Rasa is down, until it answers again (looked at every RASA_PROBE_S)."""
        if not self.assistant_down:
            await asyncio.sleep(interval_s)
            return
        self._bind_loop()
        deadline = asyncio.get_running_loop().time() + interval_s
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(RASA_PROBE_S)
            if await rasa.reachable(self._http, self.rasa_url):
                return

    def _pending(self, now: datetime) -> dict[str, list[int]]:
        """Per conversation, its unanswered messages in order, from its oldest once that one is due (a conversation
        whose oldest backs off waits whole).

        On PostgreSQL several processes resume at the same time: the rows are locked with FOR UPDATE SKIP LOCKED, a
        conversation is taken only with its oldest unanswered message (so its messages reach Rasa in order, from one
        process), and the claim holds for PENDING_LEASE_S (next_attempt_at; answering clears it, a failed attempt
        sets the next)."""
        unanswered = (InboundRecord.channel == self.channel, InboundRecord.state.in_(("received", "recorded")))
        queues: dict[str, list[int]] = {}
        with self.sessions.begin() as session:
            if session.get_bind().dialect.name != "postgresql":
                backing_off: set[str] = set()
                for inbound_id, conversation_id, next_attempt_at in session.execute(
                        select(InboundRecord.id, InboundRecord.conversation_id, InboundRecord.next_attempt_at)
                        .where(*unanswered).order_by(InboundRecord.id)).all():
                    if conversation_id in backing_off:
                        continue
                    if conversation_id not in queues and next_attempt_at is not None and next_attempt_at > now:
                        backing_off.add(conversation_id)  # its oldest is backing off: the rest of it waits behind
                    else:
                        queues.setdefault(conversation_id, []).append(inbound_id)
                return queues
            rows = session.scalars(select(InboundRecord).where(*unanswered).order_by(InboundRecord.id)
                                   .limit(500).with_for_update(skip_locked=True)).all()
            conversations = {row.conversation_id for row in rows}
            oldest = dict(session.execute(select(InboundRecord.conversation_id, func.min(InboundRecord.id))
                                          .where(*unanswered, InboundRecord.conversation_id.in_(conversations))
                                          .group_by(InboundRecord.conversation_id)).tuples().all())
            mine = {row.id for row in rows}
            blocked = {conversation for conversation, row_id in oldest.items() if row_id not in mine}
            for row in rows:
                if row.conversation_id in blocked:
                    continue
                if row.next_attempt_at is not None and row.next_attempt_at > now:
                    blocked.add(row.conversation_id)  # a retry waiting, or another process's claim
                    continue
                row.next_attempt_at = now + timedelta(seconds=PENDING_LEASE_S)
                queues.setdefault(row.conversation_id, []).append(row.id)
            return queues

    def replies_to(self, inbound_id: int) -> list[OutboundMessage]:
        """The replies queued for a message (or, for a dropped duplicate, for the message it repeats)."""
        with self.sessions() as session:
            record = session.get(InboundRecord, inbound_id)
            if record is None:
                return []
            original = record.duplicate_of or record.id
        return outbox.replies_to(self.sessions, original)

    def message_ids(self, replies: list[OutboundMessage]) -> dict[int, str]:
        """For replies to citizen messages (keys "in-<inbound id>-<n>"): outbox id → the platform id answered."""
        answering = {r.id: int(r.idempotency_key.split("-")[1]) for r in replies if r.idempotency_key.startswith("in-")}
        if not answering:
            return {}
        with self.sessions() as session:
            platform_ids = dict(session.execute(select(InboundRecord.id, InboundRecord.platform_message_id).where(
                InboundRecord.id.in_(set(answering.values())))).all())
        return {reply_id: platform_ids[inbound_id] for reply_id, inbound_id in answering.items()
                if inbound_id in platform_ids}

    def button_payload(self, conversation_id: str, choice_id: int) -> str | None:
        """The payload of a button offered in this conversation, by its durable id."""
        with self.sessions() as session:
            choice = session.get(ButtonChoice, choice_id)
            return choice.payload if choice and choice.conversation_id == conversation_id else None

    # -- steps -------------------------------------------------------------------------------------------------

    def _claim_and_record(self, message: InboundMessage) -> dedupe.Claim:
        message = self._resolve_numbered_choice(message)
        self.writer.public_text(message.text or "")  # redacted before the transaction takes the write lock
        with self.sessions.begin() as session:  # claimed and recorded in one transaction
            claim = dedupe.claim(session, message, window_s=self.duplicate_window_s, now=self.clock())
            if claim.outcome != "duplicate":
                self._record_in(session, claim.record)
        return claim  # its record is detached once committed; attributes stay loaded (expire_on_commit=False)

    def _record_if_needed(self, inbound_id: int) -> InboundRecord:
        with self.sessions.begin() as session:
            record = session.get(InboundRecord, inbound_id)
            self._record_in(session, record)
        return record

    def _record_in(self, session: Session, record: InboundRecord) -> None:
        """Write the citizen's message to the transcript (once) before anything else happens to it."""
        if record.state != "received":
            return
        ref = self.writer.append_in(
            session, channel=record.channel, conversation_id=record.conversation_id, author_role="citizen",
            text=record.text or "", platform_message_id=record.platform_message_id, meta=_inbound_meta(record),
            account=record.account)
        record.transcript_id, record.state, record.updated_at = ref.id, "recorded", self.clock()
        if record.kind == "location" and record.lat is not None and record.long is not None:
            locate_open_case(session, conversation_id=record.conversation_id, lat=record.lat, long=record.long,
                             channel=record.channel, now=self.clock())

    def _unfinished(self, conversation_id: str, before_id: int) -> list[int]:
        """The conversation's messages older than `before_id` still waiting for an answer, oldest first."""
        with self.sessions() as session:
            return list(session.scalars(select(InboundRecord.id).where(
                InboundRecord.channel == self.channel, InboundRecord.conversation_id == conversation_id,
                InboundRecord.id < before_id, InboundRecord.state.in_(("received", "recorded")))
                .order_by(InboundRecord.id)))

    def _wait_behind(self, inbound_id: int, reason: str) -> None:
        """Not tried: an earlier message of its conversation waits; the resume worker takes both, in order."""
        with self.sessions.begin() as session:
            record = session.get_one(InboundRecord, inbound_id)
            record.last_error, record.updated_at, record.next_attempt_at = reason, self.clock(), None

    async def _answer(self, record: InboundRecord, *, deliver_inline: bool = False) -> HandleResult:
        canned = self._canned_reply(record)
        if canned is None and self.subscription_topics is not None and subscriptions.is_command(record.text):
            canned = await asyncio.to_thread(self._subscription_command, record)
        if canned is not None:
            answers = [rasa.AssistantReply(text=canned)]
        else:
            try:
                answers = await rasa.ask(self._http, self.rasa_url, sender=record.conversation_id,
                                         text=record.text or "", metadata=await asyncio.to_thread(
                                             self._rasa_metadata, record))
            except rasa.AssistantUnavailable as error:
                gave_up = await asyncio.to_thread(self._postpone, record.id, str(error),
                                                  isinstance(error, rasa.AssistantDown))
                if not gave_up:
                    log.warning("assistant unavailable for %s message %s: %s", self.channel,
                                record.platform_message_id, error)
                    await self._acknowledge(record.id)
                    return HandleResult("pending", record.id, reason=str(error),
                                        assistant_down=isinstance(error, rasa.AssistantDown))
                answers = [rasa.AssistantReply(text=replies.GAVE_UP.format(phone=self.service_phone),
                                               meta={"gave_up": str(error)})]
        queued = await asyncio.to_thread(self._record_and_queue, record.id, answers, deliver_inline)
        if queued and not deliver_inline and self.on_queued is not None:
            self.on_queued()
        return HandleResult("answered", record.id, queued)

    async def _acknowledge(self, inbound_id: int) -> None:
        queued = self.acknowledge_pending and await asyncio.to_thread(self._queue_acknowledgement, inbound_id)
        if queued and self.on_queued is not None:
            self.on_queued()

    def _queue_acknowledgement(self, inbound_id: int) -> bool:
        """Record and queue "received, the answer follows" once per message (key "in-<id>-pending")."""
        with self.sessions.begin() as session:
            record = session.get_one(InboundRecord, inbound_id)
            key = f"in-{record.id}{outbox.AT_MOST_ONCE_SUFFIX}"
            if outbox.has_key(session, key):
                return False
            self.writer.append_in(session, channel=record.channel, conversation_id=record.conversation_id,
                                  author_role="bot", text=replies.RECEIVED, account=record.account,
                                  meta={"in_reply_to": record.platform_message_id, "pending": True})
            outbox.enqueue(session, key=key, channel=record.channel, conversation_id=record.conversation_id,
                           text=replies.RECEIVED, now=self.clock(), reply_to=record.reply_to, public=record.public,
                           inbound_id=record.id, account=record.account)
            return True

    def _canned_reply(self, record: InboundRecord) -> str | None:
        if record.kind == "location":
            if record.lat is None or record.long is None:
                return replies.UNSUPPORTED["other"]
            return replies.LOCATION_KEPT.format(lat=record.lat, long=record.long)
        if record.kind != "text":
            return replies.UNSUPPORTED.get(record.kind, replies.UNSUPPORTED["other"])
        text = (record.text or "").strip()
        if not text:
            return replies.EMPTY
        if len(text) > MAX_TEXT_CHARS:
            return replies.TOO_LONG.format(length=len(text), limit=MAX_TEXT_CHARS)
        return None

    def _subscription_command(self, record: InboundRecord) -> str:
        return subscriptions.handle_command(self.sessions, channel=record.channel, address=record.conversation_id,
                                            text=record.text or "", now=self.clock(),
                                            topics=self.subscription_topics or ())

    def _rasa_metadata(self, record: InboundRecord) -> dict[str, Any]:
        metadata: dict[str, Any] = {"channel": record.channel, "platform_message_id": record.platform_message_id,
                                    "public": record.public, "account": record.account}
        if self.desk_token is not None:
            metadata["desk_token"] = self.desk_token(record.conversation_id)
        with self.sessions() as session:
            located = session.scalar(select(InboundRecord).where(
                InboundRecord.conversation_id == record.conversation_id, InboundRecord.lat.is_not(None),
                InboundRecord.long.is_not(None)).order_by(InboundRecord.id.desc()).limit(1))
            if located is not None:
                metadata["location"] = {"lat": located.lat, "long": located.long}
        return metadata

    def _postpone(self, inbound_id: int, error: str, down: bool = False) -> bool:
        """Count a failed attempt and schedule the next; True when it was the last one allowed. Rasa unreachable
        (`down`) is no fault of the message: it is due again at once, and the resume worker waits for Rasa's return
        instead (wait_for_next_round), so that it is answered as soon as Rasa is back."""
        with self.sessions.begin() as session:
            record = session.get(InboundRecord, inbound_id)
            record.attempts += 1
            record.last_error = error[:2000]
            record.updated_at = self.clock()
            delay = 0.0 if down else min(RASA_RETRY_CAP_S, RASA_RETRY_BASE_S * 2 ** (record.attempts - 1))
            record.next_attempt_at = self.clock() + timedelta(seconds=delay)
            waited = (self.clock() - record.received_at).total_seconds()
            return record.attempts >= MAX_RASA_ATTEMPTS and waited >= GIVE_UP_AFTER_S

    def _record_and_queue(self, inbound_id: int, answers: list[rasa.AssistantReply],
                          deliver_inline: bool) -> list[OutboundMessage]:
        """Record every reply and queue it in the outbox, in the transaction that marks the message answered."""
        now = self.clock()
        for answer in answers:  # redacted before the transaction takes the write lock
            self.writer.public_text(answer.text)
        with self.sessions.begin() as session:
            record = session.get(InboundRecord, inbound_id)
            if record.state not in ("received", "recorded"):
                return []  # answered meanwhile by another worker
            queued = []
            for index, answer in enumerate(answers):
                key = f"in-{record.id}-{index}"
                meta = dict(answer.meta)
                offered = [{"title": b.title, "payload": b.payload} for b in answer.buttons]
                self.writer.append_in(
                    session, channel=record.channel, conversation_id=record.conversation_id, author_role="bot",
                    text=answer.text, entry_id=_str_or_none(meta.get("entry_id")),
                    entry_version=_int_or_none(meta.get("entry_version")),
                    case_id=_str_or_none(meta.get("case_id")), account=record.account,
                    meta={"in_reply_to": record.platform_message_id, "reply_index": index,
                          **({"buttons": offered} if offered else {}),
                          **{k: v for k, v in meta.items() if k not in ("entry_id", "entry_version", "case_id")}})
                buttons = self._offer_buttons(session, record.conversation_id, key, answer.buttons, now)
                row = outbox.enqueue(session, key=key, channel=record.channel, conversation_id=record.conversation_id,
                                     text=answer.text, now=now, reply_to=record.reply_to, public=record.public,
                                     buttons=buttons, inbound_id=record.id, handed_over=deliver_inline,
                                     account=record.account)
                queued.append(outbound_of(row))
            case_number = next((a.meta["case_id"] for a in answers if a.meta.get("case_id")), None)
            if case_number:
                locate_new_case(session, conversation_id=record.conversation_id, service_request_id=str(case_number),
                                last_location=_last_location(session, record.conversation_id), now=now)
            record.state, record.updated_at, record.next_attempt_at = "answered", now, None
            return queued

    def _offer_buttons(self, session: Session, conversation_id: str, batch: str, buttons: tuple[Button, ...],
                       now: datetime) -> list[dict[str, Any]]:
        stored = []
        for number, button in enumerate(buttons, start=1):
            choice = ButtonChoice(conversation_id=conversation_id, batch=batch, number=number, title=button.title,
                                  payload=button.payload, created_at=now)
            session.add(choice)
            session.flush()
            stored.append({"title": button.title, "payload": button.payload, "choice_id": choice.id})
        return stored

    def _resolve_numbered_choice(self, message: InboundMessage) -> InboundMessage:
        """On channels without buttons, "2" after a reply with buttons means the second button's payload."""
        if not self.numbered_choices or message.kind != "text" or not message.text:
            return message
        number = message.text.strip().rstrip(".)")
        if not number.isdigit():
            return message
        with self.sessions() as session:
            latest = session.scalar(select(ButtonChoice.batch).where(
                ButtonChoice.conversation_id == message.conversation_id).order_by(ButtonChoice.id.desc()).limit(1))
            if latest is None:
                return message
            choice = session.scalar(select(ButtonChoice).where(ButtonChoice.conversation_id == message.conversation_id,
                                                               ButtonChoice.batch == latest,
                                                               ButtonChoice.number == int(number)))
        if choice is None:
            return message
        raw = {**message.raw, "typed": message.text}
        return replace(message, text=choice.payload, is_button=True, raw=raw)


def _last_location(session: Session, conversation_id: str) -> tuple[float, float, str] | None:
    """The latest location the citizen sent in this conversation: (lat, long, channel)."""
    located = session.scalar(select(InboundRecord).where(
        InboundRecord.conversation_id == conversation_id, InboundRecord.lat.is_not(None),
        InboundRecord.long.is_not(None)).order_by(InboundRecord.id.desc()).limit(1))
    if located is None or located.lat is None or located.long is None:  # the query asks for both
        return None
    return located.lat, located.long, located.channel


def _inbound_meta(record: InboundRecord) -> dict[str, Any]:
    meta: dict[str, Any] = {"kind": record.kind, "sender_id": record.sender_id}
    if record.lat is not None:
        meta["location"] = {"lat": record.lat, "long": record.long}
    if record.reply_to:
        meta["reply_to"] = record.reply_to
    if record.public:
        meta["public"] = True
    if record.is_button:
        meta["button"] = True
    return meta


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
