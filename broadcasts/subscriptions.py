"""Citizens' opt-ins to alerts: `/subscribe`, `/subscribe flood`, `/subscribe area Northside`, `/unsubscribe`
(the same words in the web chat). A chat that blocked the bot or was deleted is removed, with the reason."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcasts.models import Subscription

SUBSCRIBE = "/subscribe"
UNSUBSCRIBE = "/unsubscribe"
HELP = ("Emergency alerts: /subscribe for every alert, /subscribe TOPIC for one kind ({topics}), "
        "/subscribe area NAME for one area, /unsubscribe to stop them all.")


def is_command(text: str | None) -> bool:
    word = (text or "").strip().split(maxsplit=1)[0].lower() if (text or "").strip() else ""
    return word.split("@", 1)[0] in (SUBSCRIBE, UNSUBSCRIBE)  # Telegram appends @botname in groups


def _active(session: Session, channel: str, address: str) -> list[Subscription]:
    return list(session.scalars(select(Subscription).where(
        Subscription.channel == channel, Subscription.address == address, Subscription.removed_at.is_(None))))


def subscribe(session: Session, *, channel: str, address: str, now: datetime, topic: str = "", area: str = "",
              test: bool = False) -> Subscription:
    """Opt in (again): idempotent."""
    topic, area = topic.strip().lower(), " ".join(area.split()).lower()
    row = session.scalar(select(Subscription).where(
        Subscription.channel == channel, Subscription.address == address, Subscription.topic == topic,
        Subscription.area == area))
    if row is None:
        row = Subscription(channel=channel, address=address, topic=topic, area=area, test=test, created_at=now)
        session.add(row)
    else:
        row.removed_at, row.removed_reason, row.test = None, None, row.test or test
    session.flush()
    return row


def remove(session: Session, *, channel: str, address: str, reason: str, now: datetime) -> int:
    """Every active subscription of this address ends; how many."""
    rows = _active(session, channel, address)
    for row in rows:
        row.removed_at, row.removed_reason = now, reason[:300]
    return len(rows)


def remove_blocked(sessions: sessionmaker, *, channel: str, address: str, error: str, now: datetime) -> int:
    """The platform refused the chat for good (403 blocked, chat not found): no more alerts to it."""
    with sessions.begin() as session:
        return remove(session, channel=channel, address=address, reason=f"undeliverable: {error}", now=now)


def handle_command(sessions: sessionmaker, *, channel: str, address: str, text: str, now: datetime,
                   topics: Iterable[str]) -> str:
    """Carry out a subscription command; the reply to the citizen."""
    words = text.strip().split()
    command, args = words[0].lower().split("@", 1)[0], [w.lower() for w in words[1:]]
    topics = sorted(topics)
    with sessions.begin() as session:
        if command == UNSUBSCRIBE:
            count = remove(session, channel=channel, address=address, reason="unsubscribed", now=now)
            if count:
                return "You will no longer receive emergency alerts here. /subscribe to receive them again."
            return "You were not subscribed to emergency alerts. " + HELP.format(topics=", ".join(topics))
        if args and args[0] == "area":
            area = " ".join(words[2:])
            if not area:
                return "Which area? For example: /subscribe area Northside"
            subscribe(session, channel=channel, address=address, area=area, now=now)
            return f"You will receive emergency alerts for {area} (and city-wide ones) here. /unsubscribe to stop."
        if args:
            topic = args[0]
            if topic not in topics:
                return f"There is no topic {topic!r}. " + HELP.format(topics=", ".join(topics))
            subscribe(session, channel=channel, address=address, topic=topic, now=now)
            return f"You will receive {topic} alerts here. /unsubscribe to stop."
        subscribe(session, channel=channel, address=address, now=now)
        return "You will receive the city's emergency alerts here. /unsubscribe to stop."


def active_count(sessions: sessionmaker) -> dict[str, int]:
    """Subscribed addresses per channel."""
    with sessions() as session:
        rows = session.execute(select(Subscription.channel, Subscription.address).where(
            Subscription.removed_at.is_(None)).distinct()).all()
    counts: dict[str, int] = {}
    for channel, _address in rows:
        counts[channel] = counts.get(channel, 0) + 1
    return counts
