"""Issue 17's "Done when" for e-mail, on the whole stack as real processes (desk, action server, Rasa): with
CITYDESK_SMTP_URL pointing at a running SMTP server (aiosmtpd), an emergency in the web chat puts an e-mail to the
duty officer in that server's mailbox within 60 s, and a new case puts one to its department within 60 s; the
citizen's new information on their open case is added to it (no second case) and reaches the case's head."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from desk.bot_model import ensure_trained
from desk.stack import Stack
from settings import DEMO_KB_FILE, Settings
from tests.outbox.smtp_server import smtp_server
from tests.support import free_port

pytestmark = pytest.mark.e2e

DUTY_OFFICER = "duty.officer@alderbrook.example"
PUBLIC_WORKS_HEAD = "marcus.oyelaran@alderbrook.example"
WITHIN_S = 60


@pytest.fixture(scope="module")
def mailing_stack(tmp_path_factory):
    """The stack, its desk sending e-mail to a real SMTP server on 127.0.0.1 (the processes read the environment)."""
    with smtp_server() as smtp, pytest.MonkeyPatch.context() as env:
        env.setenv("CITYDESK_SMTP_URL", smtp.url)
        env.setenv("CITYDESK_MAIL_FROM", "Alderbrook CityDesk <desk@alderbrook.example>")
        settings = Settings(data_dir=tmp_path_factory.mktemp("mail-stack"), seed_kb_file=DEMO_KB_FILE,
                            internal_token=None, desk_port=free_port(), rasa_port=free_port(),
                            action_port=free_port())
        ensure_trained(settings)
        with Stack(settings, connectors=()) as running:
            yield running, smtp


def chat(stack: Stack, text: str, sender: str | None = None) -> list[str]:
    response = httpx.post(f"{stack.settings.desk_url}/api/chat",
                          json={"sender": sender or f"web-mail-{uuid.uuid4().hex[:8]}", "message": text}, timeout=60)
    assert response.status_code == 200
    return [m["text"] for m in response.json()]


def test_an_emergency_in_the_web_chat_reaches_the_duty_officers_mailbox_within_60_s(mailing_stack):
    stack, smtp = mailing_stack
    started = time.monotonic()
    replies = chat(stack, "help there is a fire in my neighbours kitchen and smoke everywhere")
    assert any("911" in r for r in replies), replies
    arrived = smtp.mailbox.wait_for(lambda mails: any(DUTY_OFFICER in m.recipients for m in mails), WITHIN_S)
    assert time.monotonic() - started <= WITHIN_S
    [alert] = [m for m in arrived if DUTY_OFFICER in m.recipients]
    assert alert.subject.startswith("[CityDesk] EMERGENCY CD-")
    number = alert.subject.split()[2]
    assert "> help there is a fire in my neighbours kitchen and smoke everywhere" in alert.text
    assert f"{stack.settings.desk_url}/inbox/cases/{number}" in alert.text


def test_a_new_case_from_the_web_chat_reaches_its_departments_mailbox_within_60_s(mailing_stack):
    stack, smtp = mailing_stack
    started = time.monotonic()
    [reply] = chat(stack, "There's a huge pothole on Main St near 5th, nearly wrecked my bike")
    assert reply.startswith("I've passed this to Public Works as case CD-"), reply
    number = reply.split("as case ")[1].split(".")[0]
    arrived = smtp.mailbox.wait_for(lambda mails: any(number in m.subject and PUBLIC_WORKS_HEAD in m.recipients
                                                      for m in mails), WITHIN_S)
    assert time.monotonic() - started <= WITHIN_S
    [notice] = [m for m in arrived if number in m.subject]
    assert notice.recipients == (PUBLIC_WORKS_HEAD,)
    assert notice.subject.startswith(f"[CityDesk] New case {number} for Public Works: There's a huge pothole on")
    assert f"{stack.settings.desk_url}/inbox/cases/{number}" in notice.text


def test_new_information_on_the_open_case_is_added_to_it_and_e_mailed_to_whoever_has_it(mailing_stack):
    """The whole pipeline (web chat, Rasa, the action, the desk's intake): no second case, the case's thread, the
    e-mail (the case has no officer yet: its head)."""
    stack, smtp = mailing_stack
    sender = f"web-mail-{uuid.uuid4().hex[:8]}"
    [opened] = chat(stack, "There's a huge pothole on Elm Street outside the school, a cyclist fell", sender)
    number = opened.split("as case ")[1].split(".")[0]
    [added] = chat(stack, "It is much deeper now and a car lost a hubcap in it", sender)
    assert added.startswith(f"Thank you, I've added this to case {number}."), added
    arrived = smtp.mailbox.wait_for(lambda mails: any(m.subject.startswith(f"[CityDesk] Follow-up on {number}")
                                                      for m in mails), WITHIN_S)
    [follow_up] = [m for m in arrived if m.subject.startswith(f"[CityDesk] Follow-up on {number}")]
    assert follow_up.recipients == (PUBLIC_WORKS_HEAD,)
    assert "> It is much deeper now and a car lost a hubcap in it" in follow_up.text
    assert f"{stack.settings.desk_url}/inbox/cases/{number}" in follow_up.text
