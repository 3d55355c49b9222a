"""E-mail from the one outbox through a real SMTP server (aiosmtpd): what arrived, retries, sent and failed states.

The transport is the outbox's (outbox/mail.py); its tests live here because an outbox row refers to a case, whose
table the handoff package defines.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

import handoff.models  # noqa: F401  (the outbox's case_id refers to the cases table)
from outbox.mail import CHANNEL, SmtpServer, SmtpUrlError, compose_text, mail_sender, server_of, split_text
from outbox.models import OutboxMessage, OutboxState
from outbox.store import enqueue, enqueue_once
from settings import Settings
from tests.outbox.smtp_server import smtp_server
from tests.support import free_port

START = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
FROM = "Alderbrook CityDesk <desk@alderbrook.example>"
HEAD = "roads.head@alderbrook.example"
BODY = ("New case CD-2026-000007 for Public Works.\n\n"
        "The citizen wrote:\n\n> pothole outside [address], call me on [phone]\n\n"
        "Open the case: http://127.0.0.1:8000/inbox/cases/CD-2026-000007")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def queue(sessions, key: str = "mail-new-7-head", to: str = HEAD, subject: str = "[CityDesk] New case CD-2026-000007",
          body: str = BODY) -> int:
    with sessions.begin() as session:
        return enqueue(session, key=key, channel=CHANNEL, conversation_id=to, text=compose_text(subject, body),
                       now=START).id


def row(sessions, row_id: int) -> OutboxMessage:
    with sessions() as session:
        return session.get_one(OutboxMessage, row_id)


def send(sessions, port: int, clock: Clock, **options) -> int:
    sender = mail_sender(sessions, SmtpServer("127.0.0.1", port), sender=FROM, clock=clock, **options)
    return asyncio.run(sender.run_once())


def test_a_queued_notice_arrives_with_its_subject_text_html_and_link_and_is_marked_sent(sessions, clock):
    row_id = queue(sessions)
    with smtp_server() as smtp:
        assert smtp.mailbox.arrived == []  # queued is not delivered
        assert send(sessions, smtp.port, clock) == 1
        [mail] = smtp.mailbox.arrived
    assert mail.recipients == (HEAD,)
    assert (mail.subject, mail.message["From"], mail.message["To"]) == ("[CityDesk] New case CD-2026-000007", FROM,
                                                                        HEAD)
    assert mail.text.strip() == BODY
    assert '<a href="http://127.0.0.1:8000/inbox/cases/CD-2026-000007">' in mail.html
    assert "<blockquote" in mail.html and "pothole outside [address], call me on [phone]" in mail.html
    stored = row(sessions, row_id)
    assert (stored.state, stored.attempts, stored.delivered_at, stored.last_error) == (OutboxState.SENT, 1, START,
                                                                                       None)
    assert stored.platform_message_id == mail.message["Message-ID"]


def test_a_notice_is_sent_once(sessions, clock):
    with sessions.begin() as session:
        first = enqueue_once(session, key="mail-new-7-head", channel=CHANNEL, conversation_id=HEAD,
                             text=compose_text("[CityDesk] one", "body"), now=START)
        again = enqueue_once(session, key="mail-new-7-head", channel=CHANNEL, conversation_id=HEAD,
                             text=compose_text("[CityDesk] one", "body"), now=START)
    assert first is not None and again is None
    with smtp_server() as smtp:
        assert send(sessions, smtp.port, clock) == 1
        assert send(sessions, smtp.port, clock) == 0
        assert len(smtp.mailbox.arrived) == 1


def test_an_unreachable_server_leaves_the_notice_queued_with_its_error_and_it_arrives_once_the_server_is_up(
        sessions, clock):
    row_id = queue(sessions)
    port = free_port()  # nothing listens there yet
    assert send(sessions, port, clock, base_delay_s=5.0) == 0
    waiting = row(sessions, row_id)
    assert (waiting.state, waiting.attempts, waiting.delivered_at) == (OutboxState.QUEUED, 1, None)
    assert waiting.next_attempt_at == START + timedelta(seconds=5)
    assert "connect" in waiting.last_error.lower()
    with smtp_server(port) as smtp:
        clock.now = START + timedelta(seconds=4)
        assert send(sessions, port, clock) == 0  # not before its next attempt is due
        assert smtp.mailbox.arrived == []
        clock.now = START + timedelta(seconds=5)
        assert send(sessions, port, clock) == 1
        [mail] = smtp.mailbox.arrived
    assert mail.recipients == (HEAD,)
    sent = row(sessions, row_id)
    assert (sent.state, sent.attempts, sent.last_error, sent.delivered_at) == (OutboxState.SENT, 2, None,
                                                                               START + timedelta(seconds=5))


def test_a_server_that_says_try_later_is_tried_again_with_backoff(sessions, clock):
    row_id = queue(sessions)
    with smtp_server() as smtp:
        smtp.mailbox.refuse_data = "451 4.3.0 Mail server temporarily busy"
        send(sessions, smtp.port, clock, base_delay_s=5.0)
        clock.now += timedelta(seconds=5)
        send(sessions, smtp.port, clock, base_delay_s=5.0)
        waiting = row(sessions, row_id)
        assert (waiting.state, waiting.attempts) == (OutboxState.QUEUED, 2)
        assert waiting.next_attempt_at == clock.now + timedelta(seconds=10)  # doubled
        assert "temporarily busy" in waiting.last_error
        smtp.mailbox.refuse_data = None
        clock.now += timedelta(seconds=10)
        assert send(sessions, smtp.port, clock, base_delay_s=5.0) == 1
        assert len(smtp.mailbox.arrived) == 1
    assert row(sessions, row_id).state == OutboxState.SENT


def test_an_address_the_server_refuses_for_good_is_failed_at_once_with_the_reason(sessions, clock):
    row_id = queue(sessions, to="nobody@alderbrook.example")
    with smtp_server() as smtp:
        smtp.mailbox.refuse_recipient = "550 5.1.1 No such user here"
        send(sessions, smtp.port, clock)
        assert smtp.mailbox.arrived == []
    failed = row(sessions, row_id)
    assert (failed.state, failed.attempts, failed.failed_at) == (OutboxState.FAILED, 1, START)
    assert "nobody@alderbrook.example" in failed.last_error and "No such user here" in failed.last_error


def test_after_its_last_attempt_a_notice_is_failed(sessions, clock):
    row_id = queue(sessions)
    port = free_port()
    for _ in range(3):
        send(sessions, port, clock, max_attempts=3, base_delay_s=1.0)
        clock.now += timedelta(minutes=1)
    failed = row(sessions, row_id)
    assert (failed.state, failed.attempts, failed.delivered_at) == (OutboxState.FAILED, 3, None)
    assert failed.last_error


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.org", SmtpServer("mail.example.org", 25, "none")),
    ("smtp://127.0.0.1:2525", SmtpServer("127.0.0.1", 2525, "none")),
    ("smtp+starttls://mail.example.org", SmtpServer("mail.example.org", 587, "starttls")),
    ("smtps://desk%40city.example:p%40ss%3Aword@mail.example.org",
     SmtpServer("mail.example.org", 465, "tls", "desk@city.example", "p@ss:word")),
])
def test_smtp_urls(url, expected):
    assert SmtpServer.from_url(url) == expected


def test_user_and_password_may_be_settings_of_their_own_and_are_never_described(tmp_path):
    settings = Settings(data_dir=tmp_path, smtp_url=SecretStr("smtp+starttls://mail.example.org:2587"),
                        smtp_user="desk", smtp_password=SecretStr("s3cret"))
    server = server_of(settings)
    assert server == SmtpServer("mail.example.org", 2587, "starttls", "desk", "s3cret")
    assert server.describe() == "smtp+starttls://desk@mail.example.org:2587"
    assert server_of(Settings(data_dir=tmp_path)) is None


@pytest.mark.parametrize(("url", "problem"), [("http://mail.example.org", "must start with one of"),
                                              ("smtp://", "names no host"),
                                              ("smtp://mail.example.org:port", "port is not a number")])
def test_unusable_smtp_urls_say_why(url, problem):
    with pytest.raises(SmtpUrlError, match=problem):
        SmtpServer.from_url(url)


def test_a_text_without_a_subject_line_gets_its_first_line_as_subject():
    assert split_text(compose_text("[CityDesk]  Overdue:\n CD-1", "body\n")) == ("[CityDesk] Overdue: CD-1", "body\n")
    assert split_text("Overdue: case CD-1 (due soon)\nmore") == ("[CityDesk] Overdue: case CD-1 (due soon)",
                                                                 "Overdue: case CD-1 (due soon)\nmore")
