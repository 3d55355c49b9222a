"""The broadcast procedure: draft from a template, approval by a second broadcaster, release into the outbox (one row
per recipient and channel), update and cancel to everyone who got the alert, and the counts of its delivery.

Every step is audited (handoff.audit, subject "alert <id>") in the transaction that makes it, so the audit log holds
the alert's timeline.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from accounts import Account, Channel, account_suffix_of, broadcast_accounts, conversation_id_for, load_accounts
from accounts import default_account as default_account_of
from broadcasts import render, subscriptions
from broadcasts.models import Alert, AlertState, MsgType, Subscription
from broadcasts.templates import (
    CERTAINTIES,
    SEVERITIES,
    URGENCIES,
    AlertTemplate,
    TemplateError,
    check_value,
    load_templates,
)
from handoff import audit
from handoff.models import Role, StaffUser
from outbox import OutboxMessage, OutboxState
from outbox import store as outbox
from settings import Settings

BROADCAST_ROLES = frozenset({Role.SUPERVISOR, Role.BROADCASTER})
# the address of an X account's own timeline (x-timeline@<account> for another than the default): a public post, a
# thread when longer, not a message to anyone
X_TIMELINE = "x-timeline"

DRAFTED = "broadcast.drafted"
APPROVED = "broadcast.approved"
APPROVAL_REFUSED = "broadcast.approval_refused"
RELEASED = "broadcast.released"
CANCELLED = "broadcast.cancelled"
DELIVERED = "broadcast.delivered"
SUBSCRIBER_REMOVED = "broadcast.subscriber_removed"


class BroadcastError(ValueError):
    """A step the procedure refuses, with the reason (shown as it is on the page and in the CLI)."""


class SelfApproval(BroadcastError):
    """Nobody approves their own alert."""


def subject_of(alert_id: int) -> str:
    return f"alert {alert_id}"


def key_prefix(alert_id: int) -> str:
    return f"{outbox.BULK_PREFIX}bc{alert_id}:"


def key_of(alert_id: int, channel: str, address: str) -> str:
    return f"{key_prefix(alert_id)}{channel}:{address}"


@dataclass
class ChannelCounts:
    sent: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.pending


@dataclass
class AlertStatus:
    alert_id: int
    state: str
    channels: dict[str, ChannelCounts] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        return sum(c.pending for c in self.channels.values())

    def as_dict(self) -> dict:
        return {"id": self.alert_id, "state": self.state,
                "channels": {name: {"sent": c.sent, "failed": c.failed, "pending": c.pending}
                             for name, c in sorted(self.channels.items())}}


class Broadcasts:
    def __init__(self, sessions: sessionmaker, settings: Settings,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock

    # -- reading ---------------------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """The accounts that carry broadcasts (the accounts file's `broadcasts: true`; every default account)."""
        return broadcast_accounts(load_accounts(self.settings))

    def templates(self) -> dict[str, AlertTemplate]:
        return load_templates(self.settings.broadcast_templates_file)

    def get(self, alert_id: int) -> Alert:
        with self.sessions() as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                raise BroadcastError(f"there is no alert {alert_id}")
            session.expunge(alert)
            return alert

    def original_of(self, alert: Alert) -> Alert | None:
        return self.get(alert.references_id) if alert.references_id else None

    def alerts(self, *, public: bool = False, limit: int = 200) -> list[Alert]:
        """Newest first; `public`: released ones that are no exercise (the archive)."""
        with self.sessions() as session:
            query = select(Alert).order_by(Alert.id.desc()).limit(limit)
            if public:
                query = query.where(Alert.released_at.is_not(None), Alert.exercise.is_(False))
            rows = list(session.scalars(query))
            session.expunge_all()
            return rows

    def banners(self) -> list[Alert]:
        """What the web chat and the disclosure site show: released, unexpired, not cancelled, no exercise."""
        now = self.clock()
        web = {a.name for a in self.accounts() if a.channel == Channel.WEB}
        return [a for a in self.alerts(public=True, limit=50)
                if a.msg_type != MsgType.CANCEL and a.state == AlertState.RELEASED and a.expires_at > now
                and web & set(a.channels)]

    def link(self, alert: Alert) -> str:
        return f"{self.settings.public_base_url}/alerts/{alert.id}"

    def preview(self, alert: Alert) -> render.Preview:
        return render.preview(alert, self.original_of(alert), link=self.link(alert),
                              timezone=self.settings.city_timezone)

    def status(self, alert_id: int) -> AlertStatus:
        """Per channel: sent, failed (or dropped), pending (queued or being sent)."""
        alert = self.get(alert_id)
        channel_of = {a.name: str(a.channel) for a in load_accounts(self.settings)}
        result = AlertStatus(alert.id, alert.state, {channel_of.get(name, name): ChannelCounts()
                                                     for name in alert.channels})
        with self.sessions() as session:
            rows = session.execute(
                select(OutboxMessage.channel, OutboxMessage.state, func.count())
                .where(OutboxMessage.idempotency_key.like(f"{key_prefix(alert_id)}%"))
                .group_by(OutboxMessage.channel, OutboxMessage.state)).all()
        for channel, state, count in rows:
            counts = result.channels.setdefault(channel, ChannelCounts())
            if state == OutboxState.SENT:
                counts.sent += count
            elif state in (OutboxState.FAILED, OutboxState.DROPPED):
                counts.failed += count
            else:
                counts.pending += count
        return result

    def timeline(self, alert_id: int) -> list[audit.AuditEntry]:
        with self.sessions() as session:
            rows = list(session.scalars(select(audit.AuditEntry).where(
                audit.AuditEntry.subject == subject_of(alert_id)).order_by(audit.AuditEntry.at, audit.AuditEntry.id)))
            session.expunge_all()
            return rows

    def updates_of(self, alert_id: int) -> list[Alert]:
        with self.sessions() as session:
            rows = list(session.scalars(select(Alert).where(Alert.references_id == alert_id).order_by(Alert.id)))
            session.expunge_all()
            return rows

    # -- the procedure ---------------------------------------------------------------------------------------

    def _broadcaster(self, session: Session, username: str) -> StaffUser:
        user = session.get(StaffUser, username.strip().lower())
        if user is None or user.disabled_at is not None:
            raise BroadcastError(f"{username!r} is no active staff account")
        if user.role not in BROADCAST_ROLES:
            raise BroadcastError(f"{username} is a {user.role}: only supervisors and broadcasters draft and approve "
                                 "alerts")
        return user

    def draft(self, *, template: str, text: str, by: str, channels: list[str] | None = None, area: str = "",
              exercise: bool = False, severity: str | None = None, urgency: str | None = None,
              certainty: str | None = None, expires_hours: float | None = None, headline: str | None = None,
              instruction: str | None = None) -> Alert:
        templates = self.templates()
        if template not in templates:
            raise BroadcastError(f"there is no template {template!r}; one of: {', '.join(sorted(templates))}")
        chosen = self._channels(channels)
        if not text.strip():
            raise BroadcastError("an alert needs a text (its description)")
        spec, now = templates[template], self.clock()
        try:
            values = {"severity": check_value("severity", severity or spec.severity, SEVERITIES),
                      "urgency": check_value("urgency", urgency or spec.urgency, URGENCIES),
                      "certainty": check_value("certainty", certainty or spec.certainty, CERTAINTIES)}
        except TemplateError as error:
            raise BroadcastError(str(error)) from None
        area = " ".join(area.split())
        with self.sessions.begin() as session:
            user = self._broadcaster(session, by)
            alert = Alert(identifier=self._identifier(now), msg_type=MsgType.ALERT, template=template,
                          category=spec.category, event=spec.event,
                          headline=(headline or spec.headline_for(area)).strip()[:300], description=text.strip(),
                          instruction=(spec.instruction if instruction is None else instruction).strip(),
                          area=area, expires_at=now + timedelta(hours=expires_hours or spec.expires_hours),
                          channels=chosen, exercise=exercise, state=AlertState.DRAFT, drafted_by=user.username,
                          drafted_at=now, **values)
            session.add(alert)
            session.flush()
            audit.record(user.username, DRAFTED, subject_of(alert.id),
                         f"{'exercise ' if exercise else ''}{template} alert for {area or 'the whole city'} on "
                         f"{', '.join(chosen)}: {alert.headline}", session=session, at=now)
            session.expunge(alert)
            return alert

    def update(self, alert_id: int, *, text: str, by: str, headline: str | None = None,
               severity: str | None = None, urgency: str | None = None, expires_hours: float | None = None) -> Alert:
        """A draft Update of a released alert (approved and released like any alert), to everyone who got it."""
        original = self.get(alert_id)
        if original.msg_type != MsgType.ALERT or original.state != AlertState.RELEASED:
            raise BroadcastError(f"alert {alert_id} is {original.state}: only a released alert can be updated")
        if not text.strip():
            raise BroadcastError("an update needs a text")
        now = self.clock()
        with self.sessions.begin() as session:
            user = self._broadcaster(session, by)
            alert = Alert(identifier=self._identifier(now), msg_type=MsgType.UPDATE, references_id=original.id,
                          template=original.template, category=original.category, event=original.event,
                          headline=(headline or original.headline)[:300], description=text.strip(),
                          instruction=original.instruction,
                          severity=check_value("severity", severity, SEVERITIES) if severity else original.severity,
                          urgency=check_value("urgency", urgency, URGENCIES) if urgency else original.urgency,
                          certainty=original.certainty, area=original.area,
                          expires_at=now + timedelta(hours=expires_hours) if expires_hours else original.expires_at,
                          channels=list(original.channels), exercise=original.exercise, state=AlertState.DRAFT,
                          drafted_by=user.username, drafted_at=now)
            session.add(alert)
            session.flush()
            audit.record(user.username, DRAFTED, subject_of(alert.id), f"update of alert {original.id}",
                         session=session, at=now)
            audit.record(user.username, "broadcast.update_drafted", subject_of(original.id),
                         f"update drafted as alert {alert.id}", session=session, at=now)
            session.expunge(alert)
            return alert

    def approve(self, alert_id: int, *, by: str) -> Alert:
        """The second person's approval; refused (and the refusal audited) for the person who drafted it."""
        now = self.clock()
        with self.sessions.begin() as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                raise BroadcastError(f"there is no alert {alert_id}")
            user = self._broadcaster(session, by)
            if alert.state != AlertState.DRAFT:
                raise BroadcastError(f"alert {alert_id} is {alert.state}, not a draft awaiting approval")
            own = user.username == alert.drafted_by
            if not own:
                alert.state, alert.approved_by, alert.approved_at = AlertState.APPROVED, user.username, now
                audit.record(user.username, APPROVED, subject_of(alert_id), f"drafted by {alert.drafted_by}",
                             session=session, at=now)
                session.flush()
                session.expunge(alert)
                return alert
        audit.AuditLog(self.sessions, self.clock).record(user.username, APPROVAL_REFUSED, subject_of(alert_id),
                                                         "self-approval refused")
        raise SelfApproval(f"{user.username} drafted alert {alert_id} and cannot approve it: another supervisor or "
                           "broadcaster must")

    def release(self, alert_id: int, *, by: str = "system") -> dict[str, int]:
        """Queue one outbox row per recipient and channel (idempotent keys: running it again adds only the missing
        ones). Returns the rows queued now per channel."""
        now = self.clock()
        with self.sessions.begin() as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                raise BroadcastError(f"there is no alert {alert_id}")
            if alert.state not in (AlertState.APPROVED, AlertState.RELEASED):
                raise BroadcastError(f"alert {alert_id} is {alert.state}: only an approved alert is sent")
            original = session.get(Alert, alert.references_id) if alert.references_id else None
            link = self.link(alert)
            preview = render.preview(alert, original, link=link, timezone=self.settings.city_timezone)
            texts = {"telegram": preview.telegram, "web": preview.telegram,
                     "x": render.THREAD_SEPARATOR.join(preview.x)}
            recipients = self._recipients(session, alert)
            queued: dict[str, int] = {}
            done = set()
            keys = [key_of(alert.id, c, a) for c, a, _ in recipients]
            for start in range(0, len(keys), 500):
                done |= outbox.queued_keys(session, keys[start:start + 500])
            rows = []
            for channel, address, account in recipients:
                key = key_of(alert.id, channel, address)
                if key in done:
                    continue
                rows.append({"key": key, "channel": channel, "conversation_id": address, "text": texts[channel],
                             "public": channel == Channel.X, "account": account})
                queued[channel] = queued.get(channel, 0) + 1
            outbox.enqueue_many(session, rows, now=now)
            if alert.state != AlertState.RELEASED:
                alert.state, alert.released_at = AlertState.RELEASED, now
                if alert.msg_type == MsgType.CANCEL and original is not None:
                    original.state = AlertState.CANCELLED
                counts = ", ".join(f"{n} on {c}" for c, n in sorted(queued.items())) or "no recipients"
                audit.record(by, RELEASED, subject_of(alert.id), f"queued {counts}", session=session, at=now)
                if original is not None:
                    audit.record(by, f"broadcast.{alert.msg_type.lower()}_released", subject_of(original.id),
                                 f"alert {alert.id} ({alert.msg_type}) queued {counts}", session=session, at=now)
            return queued

    def cancel(self, alert_id: int, *, by: str, text: str = "") -> Alert:
        """A draft or approved alert is withdrawn (nothing was sent). A released one gets a Cancel, approved by the
        act itself (it only withdraws) and released at once to everyone who got the alert."""
        now = self.clock()
        with self.sessions.begin() as session:
            user = self._broadcaster(session, by)
            alert = session.get(Alert, alert_id)
            if alert is None:
                raise BroadcastError(f"there is no alert {alert_id}")
            if alert.state == AlertState.CANCELLED:
                raise BroadcastError(f"alert {alert_id} is cancelled already")
            if alert.msg_type == MsgType.CANCEL:
                raise BroadcastError(f"alert {alert_id} is a cancel itself")
            alert.cancelled_by, alert.cancelled_at = user.username, now
            if alert.state != AlertState.RELEASED:
                alert.state = AlertState.CANCELLED
                audit.record(user.username, CANCELLED, subject_of(alert.id), "withdrawn before it was sent",
                             session=session, at=now)
                session.flush()
                session.expunge(alert)
                return alert
            cancel = Alert(identifier=self._identifier(now), msg_type=MsgType.CANCEL, references_id=alert.id,
                           template=alert.template, category=alert.category, event=alert.event,
                           headline=f"Cancelled: {alert.headline}"[:300],
                           description=text.strip() or "This alert is withdrawn.", instruction="",
                           severity=alert.severity, urgency=alert.urgency, certainty=alert.certainty, area=alert.area,
                           expires_at=now + timedelta(hours=6), channels=list(alert.channels),
                           exercise=alert.exercise, state=AlertState.APPROVED, drafted_by=user.username,
                           drafted_at=now, approved_by=user.username, approved_at=now)
            session.add(cancel)
            session.flush()
            audit.record(user.username, CANCELLED, subject_of(alert.id), f"cancel sent as alert {cancel.id}",
                         session=session, at=now)
            audit.record(user.username, DRAFTED, subject_of(cancel.id), f"cancel of alert {alert.id}",
                         session=session, at=now)
            cancel_id = cancel.id
        self.release(cancel_id, by=user.username)
        return self.get(cancel_id)

    def record_delivered(self, alert_id: int, *, by: str = "system") -> AlertStatus:
        """Audit the final counts (the CLI's `send` when nothing is pending any more)."""
        status = self.status(alert_id)
        counts = "; ".join(f"{name}: {c.sent} sent, {c.failed} failed" for name, c in sorted(status.channels.items()))
        audit.AuditLog(self.sessions, self.clock).record(by, DELIVERED, subject_of(alert_id), counts)
        return status

    # -- helpers ---------------------------------------------------------------------------------------------

    def _channels(self, names: list[str] | None) -> list[str]:
        """The accounts chosen, by name; a channel's name that is no account's stands for all of its accounts."""
        accounts = self.accounts()
        if names is None:
            return [a.name for a in accounts]
        chosen, unknown = [], []
        for name in (n.strip().lower() for n in names if n.strip()):
            if any(a.name == name for a in accounts):
                chosen.append(name)
            elif any(a.channel == name for a in accounts):
                chosen += [a.name for a in accounts if a.channel == name]
            else:
                unknown.append(name)
        if unknown or not chosen:
            raise BroadcastError(f"unknown account {', '.join(unknown) or '(none chosen)'}; the accounts that carry "
                                 f"broadcasts are {', '.join(a.name for a in accounts) or 'none'}")
        for account in accounts:
            if account.name in chosen and account.broadcast_chat and not account.broadcast_chat.lstrip("-").isdigit():
                raise BroadcastError(f"account {account.name}'s broadcast_chat must be the channel's numeric chat id "
                                     f"(-100…), not {account.broadcast_chat!r}")
        return list(dict.fromkeys(chosen))

    def _identifier(self, now: datetime) -> str:
        domain = self.settings.cap_sender.rpartition("@")[2]
        return f"{domain}.{now:%Y%m%d}.{uuid.uuid4().hex[:16]}"

    def _recipients(self, session: Session, alert: Alert) -> list[tuple[str, str, str | None]]:
        """(channel, address, account) once each. An update or cancel goes to whoever got (or is getting) the
        original, from the same account."""
        if alert.references_id is not None:
            rows = session.execute(select(OutboxMessage.channel, OutboxMessage.conversation_id, OutboxMessage.account)
                                   .where(OutboxMessage.idempotency_key.like(f"{key_prefix(alert.references_id)}%"),
                                          OutboxMessage.state.not_in((OutboxState.FAILED, OutboxState.DROPPED)))
                                   .order_by(OutboxMessage.id))
            return list(dict.fromkeys((c, a, n) for c, a, n in rows))
        every = load_accounts(self.settings)
        chosen = [a for a in self.accounts() if a.name in alert.channels]
        found: list[tuple[str, str, str | None]] = []
        if not alert.exercise:  # exercises reach test recipients only, never the public posts
            for account in chosen:
                if account.channel == Channel.TELEGRAM and account.broadcast_chat:
                    found.append(("telegram", conversation_id_for("telegram", account.broadcast_chat, account.name),
                                  account.name))
                if account.channel == Channel.X:
                    found.append(("x", X_TIMELINE if account.is_default else f"{X_TIMELINE}@{account.name}",
                                  account.name))
        names = {a.name for a in chosen}
        channels = sorted({str(a.channel) for a in chosen if a.channel in (Channel.TELEGRAM, Channel.WEB)})
        if channels:
            defaults = {c: getattr(default_account_of(every, c), "name", None) for c in channels}
            area = alert.area.lower()
            query = (select(Subscription.channel, Subscription.address).where(
                Subscription.channel.in_(channels), Subscription.removed_at.is_(None),
                Subscription.topic.in_(("", alert.template)))
                .order_by(Subscription.id))
            if area:  # a city-wide alert reaches every area's subscribers
                query = query.where(or_(Subscription.area == "", Subscription.area == area))
            if alert.exercise:
                query = query.where(Subscription.test.is_(True))
            for channel, address in session.execute(query):
                owner = account_suffix_of(address) or defaults[channel]
                if owner in names:
                    found.append((channel, address, owner))
        return list(dict.fromkeys(found))


def remove_undeliverable(sessions: sessionmaker, *, channel: str, address: str, error: str,
                         now: datetime) -> int:
    """A chat that blocked the bot or no longer exists: its subscriptions end, recorded in the audit log."""
    with sessions.begin() as session:
        removed = subscriptions.remove(session, channel=channel, address=address, reason=f"undeliverable: {error}",
                                       now=now)
        if removed:
            audit.record("system", SUBSCRIBER_REMOVED, address, f"{channel}: {error}", session=session, at=now)
        return removed


def cap_of(broadcasts: Broadcasts, alert_id: int) -> bytes:
    """The alert's CAP 1.2 document."""
    from broadcasts.cap import cap_document

    alert = broadcasts.get(alert_id)
    settings = broadcasts.settings
    return cap_document(alert, broadcasts.original_of(alert), sender=settings.cap_sender,
                        sender_name=f"City of {settings.city_name}", web=broadcasts.link(alert))
