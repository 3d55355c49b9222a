"""The trends job of the desk's scheduler: every `trends_interval_s`, the new messages' topics and keywords
(handoff/topics.py), then a check of every topic for a burst (handoff/burst_alerts.py), whose e-mail goes to the duty
officer and the supervisors through the one outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.triggers.interval import IntervalTrigger

from desk.report_schedule import supervisors_of
from handoff.burst_alerts import BurstAlerts
from handoff.notices import Notice
from handoff.service import CaseDesk
from handoff.topics import Embed, Redact, TopicJob
from settings import Settings

log = logging.getLogger("citydesk.trends")
JOB_ID = "trends"


def trend_job(settings: Settings, cases: CaseDesk, *, embed: Embed, redact: Redact) -> Callable[[], list[Notice]]:
    """Assign the topics of the messages recorded since the last run, then check for bursts (by the desk's clock)."""
    topics = TopicJob(cases.sessions, embed=embed, redact=redact)
    alerts = BurstAlerts(cases.sessions, redact=redact, timezone=settings.city_timezone, desk_url=settings.desk_url)

    def job() -> list[Notice]:
        now = cases.now()
        assigned = topics.run(now=now)
        queued = alerts.check(now=now, duty_officer=cases.directory.duty_officer.email,
                              supervisors=supervisors_of(settings, cases))
        if assigned or queued:
            log.info("Topics of %d messages; %d burst e-mails queued", assigned, len(queued))
        return queued

    return job


def trend_trigger(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(seconds=settings.trends_interval_s, timezone=settings.city_timezone)
