"""Alerts through the Telegram connector: /subscribe and /unsubscribe in the chat, an alert delivered to the
subscribers, an exercise only to test recipients, an update to everyone who got the alert, a blocked bot removed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broadcasts.models import Subscription
from broadcasts.service import Broadcasts
from settings import Settings
from tests.broadcasts.conftest import add_staff, add_subscribers
from tests.connectors.telegram_support import running_connector, telegram_settings
from tests.fakes.telegram_api import FakeTelegramApi

CHAT = 6660001


@pytest.fixture
def fake():
    with FakeTelegramApi(max_per_second=30, chat_period_s=1.0) as api:
        yield api


@pytest.fixture
def settings(tmp_path, db_url, rasa, fake) -> Settings:
    port = int(rasa.url.rsplit(":", 1)[1])
    return telegram_settings(Settings(data_dir=tmp_path, database_url=db_url, rasa_port=port), fake)


@pytest.fixture
def service(sessions, settings) -> Broadcasts:
    add_staff(sessions, settings)
    return Broadcasts(sessions, settings)


def send(service: Broadcasts, **draft) -> int:
    alert = service.draft(by="ana", **{"template": "flood", "text": "The river is rising.", "channels": ["telegram"],
                                       **draft})
    service.approve(alert.id, by="ben")
    service.release(alert.id)
    return alert.id


def active(sessions) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [(s.address, s.topic, s.area) for s in session.scalars(
            select(Subscription).where(Subscription.removed_at.is_(None)).order_by(Subscription.id))]


def test_subscribe_receive_an_alert_and_its_update_then_unsubscribe(settings, fake, sessions, service, rasa):
    with running_connector(settings):
        fake.send_text(CHAT, "/subscribe")
        fake.send_text(CHAT + 1, "/subscribe area Hilltop")
        fake.send_text(CHAT + 2, "/subscribe tornado")
        assert fake.wait_for(lambda: len(fake.sent) == 3, timeout=30)
        assert [m.text for m in fake.sent_to(CHAT)] == [
            "You will receive the city's emergency alerts here. /unsubscribe to stop."]
        assert fake.sent_to(CHAT + 2)[0].text.startswith("There is no topic 'tornado'.")
        assert active(sessions) == [(f"tg-{CHAT}", "", ""), (f"tg-{CHAT + 1}", "", "hilltop")]
        alert_id = send(service, area="Riverside")
        assert fake.wait_for(lambda: len(fake.sent_to(CHAT)) == 2, timeout=30)
        assert fake.sent_to(CHAT)[1].text.startswith("Flood warning: Riverside")
        assert len(fake.sent_to(CHAT + 1)) == 1  # Hilltop's subscriber: not this alert
        update = service.update(alert_id, text="The water is falling.", by="ben")
        service.approve(update.id, by="ana")
        service.release(update.id)
        assert fake.wait_for(lambda: len(fake.sent_to(CHAT)) == 3, timeout=30)
        assert fake.sent_to(CHAT)[2].text.startswith("UPDATE to the alert of")
        fake.send_text(CHAT, "/unsubscribe")
        assert fake.wait_for(lambda: len(fake.sent_to(CHAT)) == 4, timeout=30)
    assert fake.sent_to(CHAT)[3].text.startswith("You will no longer receive emergency alerts here.")
    assert active(sessions) == [(f"tg-{CHAT + 1}", "", "hilltop")]
    assert rasa.received == []  # the commands never reached the assistant


def test_an_exercise_reaches_only_test_recipients(settings, fake, sessions, service):
    add_subscribers(sessions, "telegram", [f"tg-{CHAT + n}" for n in range(5)])
    add_subscribers(sessions, "telegram", [f"tg-{CHAT + 9}"], test=True)
    with running_connector(settings):
        alert_id = send(service, exercise=True)
        assert fake.wait_for(lambda: service.status(alert_id).pending == 0, timeout=30)
    assert [m.chat_id for m in fake.sent] == [CHAT + 9]
    assert fake.sent[0].text.startswith("[EXERCISE] Flood warning")


def test_a_blocked_bot_is_removed_and_not_retried_and_429_is_waited_out(settings, fake, sessions, service):
    add_subscribers(sessions, "telegram", [f"tg-{CHAT}", f"tg-{CHAT + 1}"])
    fake.blocked_chats.add(CHAT + 1)
    fake.rate_limit(retry_after=1, times=2)
    with running_connector(settings):
        alert_id = send(service)
        assert fake.wait_for(lambda: service.status(alert_id).pending == 0, timeout=30)
        second = send(service, template="heat-wave", text="Hot.")
        assert fake.wait_for(lambda: service.status(second).pending == 0, timeout=30)
    assert [m.chat_id for m in fake.sent] == [CHAT, CHAT]
    assert sum(1 for method, params in fake.calls if method == "sendMessage"
               and int(params["chat_id"]) == CHAT + 1) == 1
    counts = service.status(alert_id).channels["telegram"]
    assert (counts.sent, counts.failed) == (1, 1)
    assert active(sessions) == [(f"tg-{CHAT}", "", "")]
