"""The weekly and monthly report e-mails: the desk's scheduler (APScheduler) queues them in the outbox at the hour
and at every start, and a real SMTP server (aiosmtpd) receives each once, however often the desk restarts. The desk's
clock is faked: Monday 7 December 2026, 07:30 in the city (America/New_York); the traffic is the hand-counted week
of tests/handoff/report_traffic.py."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import select

from database import create_db_engine, session_factory, upgrade
from desk.app import create_app
from desk.report_schedule import triggers
from handoff.report_mail import last_month, last_week
from outbox.models import OutboxMessage
from settings import Settings
from tests.desk.test_mail import Served
from tests.handoff import report_traffic as traffic
from tests.outbox.smtp_server import smtp_server
from tests.support import free_port

CITY = "America/New_York"
MONDAY_MORNING = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)  # 07:30 EST
PUBLIC_WORKS_HEAD = "marcus.oyelaran@alderbrook.example"
WASTE_HEAD = "lena.kowalczyk@alderbrook.example"
SUPERVISOR = "chief@alderbrook.example"
DELIVERY_S = 60


def reports(mails) -> list:
    """The report e-mails among what arrived (the desk escalates the overdue case W1 by e-mail too)."""
    return [mail for mail in mails if " report: " in mail.subject]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_week_and_month_due_follow_the_city_calendar():
    sunday = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    assert last_week(sunday, CITY, 7).start == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # Mon 23 Nov 00:00 EST
    monday_early = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # 06:00 EST: this week's report is not due yet
    assert last_week(monday_early, CITY, 7).end == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    assert last_week(MONDAY_MORNING, CITY, 7).start == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    assert last_week(MONDAY_MORNING, CITY, 7).end == datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    month = last_month(MONDAY_MORNING, CITY, 7)
    assert (month.start, month.end) == (datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
                                        datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    settings = Settings(city_timezone=CITY, report_hour=7)
    weekly, monthly = triggers(settings)["weekly"], triggers(settings)["monthly"]
    assert weekly.get_next_fire_time(None, sunday) == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert monthly.get_next_fire_time(None, sunday) == datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


def report_rows(settings: Settings) -> list[str]:
    engine = create_db_engine(settings.resolved_database_url)
    with session_factory(engine)() as session:
        keys = list(session.scalars(select(OutboxMessage.idempotency_key)
                                    .where(OutboxMessage.idempotency_key.like("report:%"))
                                    .order_by(OutboxMessage.idempotency_key)))
    engine.dispose()
    return keys


def test_heads_get_the_weekly_report_and_supervisors_the_monthly_once_across_restarts(tmp_path):
    with smtp_server() as smtp:
        settings = Settings(data_dir=tmp_path, rasa_port=free_port(), desk_port=free_port(), city_timezone=CITY,
                            smtp_url=SecretStr(smtp.url), mail_poll_interval_s=0.3, report_hour=7,
                            report_supervisors=[SUPERVISOR])
        upgrade(settings.resolved_database_url)
        engine = create_db_engine(settings.resolved_database_url)
        traffic.seed(session_factory(engine))
        engine.dispose()
        clock = Clock(MONDAY_MORNING)

        # the desk starts on Monday morning: the reports due are queued at once and delivered
        with Served(create_app(settings, clock=clock), settings.desk_port):
            smtp.mailbox.wait_for(lambda mails: len(reports(mails)) >= 3, DELIVERY_S)
            time.sleep(1.0)  # anything more would arrive now
        assert sorted(address for mail in reports(smtp.mailbox.arrived) for address in mail.recipients) == \
            sorted([PUBLIC_WORKS_HEAD, WASTE_HEAD, SUPERVISOR])  # departments with no traffic get none
        [works] = reports(smtp.mailbox.to(PUBLIC_WORKS_HEAD))
        assert works.subject == "[CityDesk] Weekly report: Public Works, week of 30 Nov 2026"
        for line in ("messages received: 3 (before: 1, change 2)", "handed off: 2 (before: 1, change 1)",
                     "emergencies: 1 (before: 0, change 1)", "delay rate: 0.3333 (before: 1, change -0.6667)",
                     "first response, median (h): 2 (before: 4, change -2)", "overdue now: 0",
                     f"{settings.desk_url}/reports?from=2026-11-30&to=2026-12-07"):
            assert line in works.text, line
        [waste] = reports(smtp.mailbox.to(WASTE_HEAD))
        assert "messages received: 1 (before: 0, change 1)" in waste.text and "overdue now: 1" in waste.text
        [monthly] = reports(smtp.mailbox.to(SUPERVISOR))
        assert monthly.subject == "[CityDesk] Monthly report: all departments, November 2026"
        # November (city time): the previous week's three messages and P1
        assert "messages received: 3 (before: 0, change 3)" in monthly.text

        # a restart an hour later: nothing is sent twice; the scheduler's next Monday sends the next week's
        clock.now = MONDAY_MORNING + timedelta(hours=1)
        with Served(create_app(settings, clock=clock), settings.desk_port) as desk:
            time.sleep(1.5)
            assert len(reports(smtp.mailbox.arrived)) == 3
            clock.now = MONDAY_MORNING + timedelta(days=7)
            desk.app.state.report_scheduler.get_job("report-mail-weekly").modify(next_run_time=datetime.now(UTC))
            smtp.mailbox.wait_for(lambda mails: len(reports(mails)) >= 5, DELIVERY_S)
            time.sleep(1.0)
        assert len(reports(smtp.mailbox.arrived)) == 5
        assert sorted(mail.subject for mail in reports(smtp.mailbox.to(WASTE_HEAD))) == [
            "[CityDesk] Weekly report: Waste & Recycling, week of 30 Nov 2026",
            "[CityDesk] Weekly report: Waste & Recycling, week of 7 Dec 2026"]
        assert report_rows(settings) == [f"report:month:{SUPERVISOR}:2026-11",
                                         "report:week:public-works:2026-11-30", "report:week:public-works:2026-12-07",
                                         "report:week:waste:2026-11-30", "report:week:waste:2026-12-07"]
