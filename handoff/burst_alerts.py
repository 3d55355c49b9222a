"""Burst alerts on the desk's database: the counts handoff/bursts.py reads, from the stored topics (handoff/topics.py),
the bursts kept between checks (table `bursts`), and the e-mail to the duty officer and the supervisors when a burst
begins, with the redacted messages behind it, through the one outbox.

Each e-mail's idempotency key names the burst (burst:<id>:<address>), and a burst begins once: no repeats while it
lasts; a new burst of the topic, after the last one ended, alerts again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from handoff import bursts
from handoff.bursts import BIN, BINS_PER_HOUR, Burst, BurstRule, BurstState, TopicCounts
from handoff.models import MessageDecision
from handoff.notices import BRAND, Notice
from handoff.topics import labels
from handoff.trend_models import BurstRow, MessageTopic, TopicKind, TrendProgress
from outbox import store as outbox
from outbox.mail import CHANNEL, compose_text
from privacy import REMOVED_TEXT

Redact = Callable[[str], str]
MAX_MESSAGES = 30
LOCK = "bursts"  # the trend_progress row the check locks


def _bin_of(moments: Sequence[datetime], start: datetime, size: int) -> np.ndarray:
    """Each moment's bin from `start` (BIN long), those outside [0, size) dropped."""
    offsets = np.array([(moment - start) // BIN for moment in moments], dtype=np.int64)
    return offsets[(offsets >= 0) & (offsets < size)]


def _counts(session: Session, spans: Sequence[tuple[datetime, datetime]], size: int) -> tuple[
        dict[str, np.ndarray], np.ndarray]:
    """Per topic and in all, the messages per bin of the spans (each `size` bins), the spans summed bin by bin."""
    within_topics = or_(*(and_(MessageTopic.at >= start, MessageTopic.at < end) for start, end in spans))
    within_all = or_(*(and_(MessageDecision.at >= start, MessageDecision.at < end) for start, end in spans))
    topics: dict[str, np.ndarray] = {}
    total = np.zeros(size, dtype=np.int64)
    found: dict[str, list[datetime]] = {}
    for topic, at in session.execute(select(MessageTopic.topic, MessageTopic.at).where(
            MessageTopic.kind == TopicKind.TOPIC.value, within_topics)):
        found.setdefault(topic, []).append(at)
    moments = list(session.scalars(select(MessageDecision.at).where(within_all)))
    for start, end in spans:
        for topic, ats in found.items():
            series = topics.setdefault(topic, np.zeros(size, dtype=np.int64))
            np.add.at(series, _bin_of([at for at in ats if start <= at < end], start, size), 1)
        np.add.at(total, _bin_of([at for at in moments if start <= at < end], start, size), 1)
    return topics, total


def topic_counts(session: Session, *, now: datetime, rule: BurstRule = BurstRule()) -> TopicCounts:
    """What the detector reads at `now`: the last hours per bin, and the same bins of the baseline days."""
    size = bursts.bins_needed(rule)
    first = bursts.lookback_start(now, rule)
    recent, total = _counts(session, [(first, now)], size)
    days = rule.baseline.days
    usual, usual_total = _counts(session, [(first - timedelta(days=day), now - timedelta(days=day))
                                           for day in range(1, days + 1)], size)
    return TopicCounts(bins=recent, total=total, usual=usual, usual_total=usual_total)


def _burst(row: BurstRow) -> Burst:
    return Burst(topic=row.topic, started_at=row.started_at, last_signal_at=row.last_signal_at,
                 peak_last_hour=row.peak_last_hour, expected_last_hour=row.expected_last_hour,
                 state=BurstState(row.state), ended_at=row.ended_at, id=row.id)


def messages_behind(session: Session, topic: str, *, now: datetime, redact: Redact,
                    limit: int = MAX_MESSAGES) -> list[tuple[datetime, str, str]]:
    """The topic's messages of the last hour, newest first: when, channel, redacted text."""
    rows = session.execute(
        select(MessageDecision.at, MessageDecision.channel, MessageDecision.text)
        .join(MessageTopic, MessageTopic.decision_id == MessageDecision.id)
        .where(MessageTopic.kind == TopicKind.TOPIC.value, MessageTopic.topic == topic,
               MessageTopic.at >= now - BIN * BINS_PER_HOUR, MessageTopic.at < now + BIN)
        .order_by(MessageDecision.at.desc()).limit(limit))
    return [(at, channel, redact(text) if text != REMOVED_TEXT else text) for at, channel, text in rows]


def alert_body(burst: Burst, label: str, messages: Sequence[tuple[datetime, str, str]], *, timezone: str,
               desk_url: str, why: str) -> str:
    zone = ZoneInfo(timezone)
    lines = [f"A burst of messages about {label} ({burst.topic}): {burst.peak_last_hour} in the last hour, where "
             f"about {burst.expected_last_hour:.1f} were expected at this hour.",
             f"Detected at {burst.started_at.astimezone(zone):%H:%M %Z, %d %b %Y}. You get no other e-mail about it "
             "while it lasts.", "", "The messages behind it (personal data redacted), newest first:"]
    lines += [f"- {at.astimezone(zone):%H:%M} ({channel}): {text}" for at, channel, text in messages]
    lines += ["", f"Reports and topics: {desk_url.rstrip('/')}/reports", "", f"-- CityDesk. {why}"]
    return "\n".join(lines)


class BurstAlerts:
    """One check of every topic: bursts begun are stored and alerted, those going on kept, those over ended."""

    def __init__(self, sessions: sessionmaker, *, redact: Redact, timezone: str, desk_url: str,
                 rule: BurstRule = BurstRule()) -> None:
        self._sessions = sessions
        self._redact = redact
        self._timezone = timezone
        self._desk_url = desk_url
        self.rule = rule

    def check(self, *, now: datetime, duty_officer: str, supervisors: Sequence[str]) -> list[Notice]:
        """Run the detector at `now`; the e-mails queued (for the bursts that began)."""
        with self._sessions.begin() as session:
            # one check at a time (several desk workers on PostgreSQL): the next sees the bursts this one began
            session.execute(select(TrendProgress).where(TrendProgress.name == LOCK).with_for_update())
            rows = {row.id: row for row in session.scalars(
                select(BurstRow).where(BurstRow.state == BurstState.ACTIVE.value))}
            active = [_burst(row) for row in rows.values()]
            counts = topic_counts(session, now=now, rule=self.rule)
            found = bursts.signals(counts, self.rule, going_on=[burst.topic for burst in active])
            result = bursts.step(active, found, now=now, rule=self.rule)
            for burst in [*result.going_on, *result.ended]:
                row = rows[burst.id] if burst.id is not None else None
                if row is not None:
                    row.state, row.ended_at = burst.state.value, burst.ended_at
                    row.last_signal_at, row.peak_last_hour = burst.last_signal_at, burst.peak_last_hour
            notices = []
            named = labels(self._sessions, [burst.topic for burst in result.began])
            for burst in result.began:
                row = BurstRow(topic=burst.topic, state=burst.state.value, started_at=burst.started_at,
                               last_signal_at=burst.last_signal_at, peak_last_hour=burst.peak_last_hour,
                               expected_last_hour=burst.expected_last_hour)
                session.add(row)
                session.flush()
                messages = messages_behind(session, burst.topic, now=now, redact=self._redact)
                recipients = {duty_officer.strip().lower(): "You get this e-mail as the duty officer."}
                for address in supervisors:
                    recipients.setdefault(address.strip().lower(), "You get this e-mail as a supervisor of the desk.")
                for address, why in recipients.items():
                    notice = Notice(key=f"burst:{row.id}:{address}", to=address,
                                    subject=f"{BRAND} Burst: {burst.peak_last_hour} messages in an hour about "
                                            f"{named[burst.topic]}",
                                    body=alert_body(burst, named[burst.topic], messages, timezone=self._timezone,
                                                    desk_url=self._desk_url, why=why))
                    if outbox.enqueue_once(session, key=notice.key, channel=CHANNEL, conversation_id=notice.to,
                                           text=compose_text(notice.subject, notice.body), now=now) is not None:
                        notices.append(notice)
        return notices
