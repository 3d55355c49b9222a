"""Burst alerts through the desk: its scheduler assigns the new messages' topics (a real embedder clusters the
unanswered ones) and checks every topic; a burst's e-mail, with the redacted messages behind it, reaches the duty
officer and a supervisor at a real SMTP server (aiosmtpd) once, however often the check runs while it lasts; a new
burst of the same topic hours later alerts again. The desk's clock is faked."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import select

from database import create_db_engine, session_factory, upgrade
from desk.app import create_app
from handoff.models import MessageDecision
from handoff.trend_models import BurstRow
from settings import Settings
from tests.desk.test_mail import Served
from tests.outbox.smtp_server import smtp_server
from tests.support import free_port

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in the city
DUTY = "duty.officer@alderbrook.example"  # handoff/departments.yml
SUPERVISOR = "chief@alderbrook.example"
PHONE = "303 555 0199"
WATER_MAIN = ("The water main on Elm Street burst, the road is flooded",
              "Water is gushing out of the street on Elm, a main must have broken",
              f"Big water main break at Elm and 5th, call me at {PHONE}",
              "Elm Street is flooding from a burst water pipe",
              "There's a water main break on Elm street, water everywhere")
DELIVERY_S = 60


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def record(settings: Settings, rows: list[dict]) -> None:
    engine = create_db_engine(settings.resolved_database_url)
    with session_factory(engine).begin() as session:
        session.add_all(MessageDecision(channel="telegram", intent=None, reason="test", confidence=None, case_id=None,
                                        **row) for row in rows)
    engine.dispose()


def background(until: datetime) -> list[dict]:
    """15 days of everyday questions answered from three entries: one an hour each, from 7:00 to 21:00 UTC."""
    rows = []
    for hour in range(15 * 24):
        at = until - timedelta(days=15) + timedelta(hours=hour)
        if 7 <= at.hour < 21 and at < until:
            rows += [{"at": at + timedelta(minutes=minute), "conversation_id": f"bg-{hour}-{entry}", "text": text,
                      "route": "answer", "entry_id": entry}
                     for minute, (entry, text) in enumerate((("bins", "When are the bins collected?"),
                                                             ("parking", "How do I renew my parking permit?"),
                                                             ("library", "When does the library open?")))]
    return rows


def burst(until: datetime, count: int, tag: str) -> list[dict]:
    """`count` messages about the water main over the 40 minutes before `until`: unanswered, no category."""
    return [{"at": until - timedelta(minutes=40) + timedelta(seconds=number * 2400 / count),
             "conversation_id": f"{tag}-{number}", "text": WATER_MAIN[number % len(WATER_MAIN)],
             "route": "out_of_scope", "entry_id": None} for number in range(count)]


def checked_at(settings: Settings, moment: datetime, within_s: float = DELIVERY_S) -> None:
    """Wait until a check at `moment` has seen the burst go on (it stored its signal)."""
    engine = create_db_engine(settings.resolved_database_url)
    deadline = time.monotonic() + within_s
    try:
        while time.monotonic() < deadline:
            with session_factory(engine)() as session:
                if session.scalar(select(BurstRow.last_signal_at).order_by(BurstRow.id)) == moment:
                    return
            time.sleep(0.2)
        raise AssertionError(f"no check at {moment}")
    finally:
        engine.dispose()


def bursts(mails) -> list:
    return [mail for mail in mails if "Burst:" in mail.subject]


def test_a_burst_alerts_the_duty_officer_and_supervisors_once_and_a_later_one_again(tmp_path):
    with smtp_server() as smtp:
        settings = Settings(data_dir=tmp_path, rasa_port=free_port(), desk_port=free_port(),
                            city_timezone="America/New_York", smtp_url=SecretStr(smtp.url), mail_poll_interval_s=0.3,
                            report_supervisors=[SUPERVISOR])
        upgrade(settings.resolved_database_url)
        record(settings, background(NOW) + burst(NOW, 22, "first"))
        clock = Clock(NOW)
        with Served(create_app(settings, clock=clock), settings.desk_port) as desk:
            smtp.mailbox.wait_for(lambda mails: len(bursts(mails)) >= 2, DELIVERY_S)
            [to_duty] = bursts(smtp.mailbox.to(DUTY))
            [to_supervisor] = bursts(smtp.mailbox.to(SUPERVISOR))
            assert to_duty.subject.startswith("[CityDesk] Burst: 22 messages in an hour about")
            assert "water" in to_duty.subject.lower()
            for text in (WATER_MAIN[0], WATER_MAIN[3], "as the duty officer"):
                assert text in to_duty.text, text
            assert PHONE not in to_duty.text and "Big water main break at Elm and 5th, call me at" in to_duty.text
            assert "as a supervisor" in to_supervisor.text
            # the background's everyday questions are no burst
            assert "bins" not in to_duty.subject

            # the check runs again while the burst goes on: no second e-mail
            job = desk.app.state.report_scheduler.get_job("trends")
            clock.now = NOW + timedelta(minutes=10)
            record(settings, burst(clock.now, 10, "more"))
            job.modify(next_run_time=datetime.now(UTC))
            checked_at(settings, clock.now)
            time.sleep(1.5)  # the sender polls every 0.3 s: an e-mail queued by that check would have arrived
            assert len(bursts(smtp.mailbox.arrived)) == 2

            # five hours later (the burst over): a new one on the same street alerts again
            clock.now = NOW + timedelta(hours=5)
            record(settings, burst(clock.now, 24, "second"))
            job.modify(next_run_time=datetime.now(UTC))
            smtp.mailbox.wait_for(lambda mails: len(bursts(mails)) >= 4, DELIVERY_S)
            time.sleep(1.0)
        assert len(bursts(smtp.mailbox.to(DUTY))) == 2 and len(bursts(smtp.mailbox.to(SUPERVISOR))) == 2
