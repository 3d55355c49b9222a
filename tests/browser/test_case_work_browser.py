"""A case's whole procedure through the inbox pages in a real headless Chromium: the head assigns it, another
officer takes it over with a reason, asks the citizen (the clock stops; two days pass on a faked clock; the citizen's
reply through the intake starts it again), drafts an answer, the head returns it with a comment, the officer
corrects it, the head approves it, and the answer reaches the citizen's web chat (/api/chat/updates). The desk sends
its e-mail to a real SMTP server (aiosmtpd): each officer's notices arrive at their own address, and an overdue case
escalated from the supervisor's inbox (the clock faked past its deadline) reaches the head and the duty officer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from desk.app import create_app
from handoff.directory import SLA
from handoff.intake import IncomingMessage
from handoff.service import CaseDesk
from settings import DEMO_KB_FILE, Settings
from tests.browser.conftest import ServedApp
from tests.browser.test_inbox_browser import submit, text_of
from tests.desk.inbox_support import PASSWORD
from tests.handoff.conftest import FakeClock, open_case
from tests.outbox.smtp_server import Arrived, Mailbox, smtp_server
from tests.support import free_port

CONVERSATION = "web-shed"
# Permits & Licensing works office hours and reviews its officers' answers (handoff/departments.yml)
PEOPLE = {"pat": ("Pat Officer", "staff", "permits"), "pia": ("Pia Officer", "staff", "permits"),
          "sam": ("Sam Head", "head", "permits"), "vera": ("Vera Supervisor", "supervisor", None)}
ADDRESSES = {"pat": "pat.officer@alderbrook.example", "pia": "pia.officer@alderbrook.example"}  # their own
PERMITS_HEAD = "samuel.achebe@alderbrook.example"  # the directory's (handoff/departments.yml)
PUBLIC_WORKS_HEAD = "marcus.oyelaran@alderbrook.example"
DUTY_OFFICER = "duty.officer@alderbrook.example"
DELIVERY_S = 60


@pytest.fixture(scope="module")
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def served(tmp_path_factory, smtp):
    # escalation from the supervisor's page only (the desk's own round runs at start, then hourly)
    settings = Settings(data_dir=tmp_path_factory.mktemp("casework-browser"), seed_kb_file=DEMO_KB_FILE,
                        desk_port=free_port(), rasa_port=free_port(), smtp_url=SecretStr(smtp.url),
                        mail_from="CityDesk <desk@alderbrook.example>", mail_poll_interval_s=0.2,
                        escalation_interval_s=3600)
    with ServedApp(create_app(settings), settings.host, settings.desk_port) as app:
        for username, (name, role, department) in PEOPLE.items():
            app.app.state.staff.add(username=username, display_name=name, password=PASSWORD, role=role,
                                    department=department, email=ADDRESSES.get(username))
        yield app
        app.app.state.cases.set_clock(lambda: datetime.now(UTC))


def mail_to(mailbox: Mailbox, address: str, subject_start: str, number: str) -> Arrived:
    """The e-mail that arrived at the SMTP server for `address` about case `number`, waiting for it as the desk's
    sender delivers it."""
    def found(arrived: list[Arrived]) -> list[Arrived]:
        return [m for m in arrived if address in m.recipients and m.subject.startswith(f"[CityDesk] {subject_start}")
                and number in m.subject + m.text]

    matches = found(mailbox.wait_for(lambda arrived: bool(found(arrived)), timeout_s=DELIVERY_S))
    assert len(matches) == 1, [(m.recipients, m.subject) for m in mailbox.arrived]
    return matches[0]


@pytest.fixture
def browser(driver, served) -> WebDriver:
    driver.get(f"{served.url}/inbox/login")
    driver.delete_all_cookies()
    return driver


def log_in(browser: WebDriver, served: ServedApp, username: str) -> None:
    browser.get(f"{served.url}/inbox/login")
    browser.delete_all_cookies()
    browser.get(f"{served.url}/inbox/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(browser, browser.find_element(By.ID, "login-button"))
    assert browser.current_url == f"{served.url}/inbox"


def open_from_view(browser: WebDriver, view: str, number: str) -> int:
    """Open the case from one of the inbox's views; the view's count."""
    submit(browser, browser.find_element(By.ID, f"tab-{view}"))
    count = int(text_of(browser, f"tab-count-{view}"))
    submit(browser, browser.find_element(By.LINK_TEXT, number))
    assert text_of(browser, "case-number") == number
    return count


def history(browser: WebDriver) -> list[str]:
    return [li.get_attribute("data-kind") for li in browser.find_elements(By.CSS_SELECTOR, "#history li")]


def test_assign_take_over_pause_draft_return_approve_and_the_answer_reaches_the_citizen(browser, served, smtp):
    cases: CaseDesk = served.app.state.cases
    case = open_case(cases, category=None, department="permits", sla=SLA.SIMPLE, conversation_id=CONVERSATION,
                     text="Do I need a permit to build a garden shed?")
    number = case.service_request_id

    # the head assigns it to Pat from the unassigned view
    log_in(browser, served, "sam")
    assert open_from_view(browser, "unassigned", number) >= 1
    assert "business hours Mon-Fri 08:00-17:00" in text_of(browser, "case-deadline")
    Select(browser.find_element(By.ID, "assign-officer")).select_by_visible_text("Pat Officer (pat)")
    submit(browser, browser.find_element(By.ID, "assign-button"))
    assert text_of(browser, "flash") == "The case is assigned to pat."
    assert text_of(browser, "assignment-holder") == "Assigned to pat."
    # the department's head heard of the new case; Pat, at her own address, that it is hers
    mail_to(smtp.mailbox, PERMITS_HEAD, "New case", number)
    assigned = mail_to(smtp.mailbox, ADDRESSES["pat"], "Assigned to you", number)
    assert f"{served.url}/inbox/cases/{number}" in assigned.text

    # Pia takes it over: not without a reason
    log_in(browser, served, "pia")
    open_from_view(browser, "all", number)
    submit(browser, browser.find_element(By.ID, "take-over-button"))
    assert text_of(browser, "take_over-error") == "Say why you take the case over from pat."
    browser.find_element(By.ID, "take-over-reason").send_keys("Pat is on leave until Friday")
    submit(browser, browser.find_element(By.ID, "take-over-button"))
    assert text_of(browser, "flash") == "You have taken over this case."
    assert text_of(browser, "assignment-holder") == "Assigned to pia (you)."
    assert "Pat is on leave until Friday" in browser.find_elements(By.CSS_SELECTOR, "#history li")[-1].text
    # and Pat hears that the case is no longer hers, and why
    assert "The reason given: Pat is on leave until Friday" in mail_to(smtp.mailbox, ADDRESSES["pat"],
                                                                      "No longer yours", number).text

    # she asks the citizen; the clock stops; two days later the citizen answers in the chat
    browser.find_element(By.ID, "ask-text").send_keys("How large is the shed, in square metres?")
    submit(browser, browser.find_element(By.ID, "send-ask"))
    assert text_of(browser, "case-clock").startswith("paused: waiting for the citizen since")
    asked_at = cases.now()
    cases.set_clock(FakeClock(asked_at + timedelta(days=2)))
    outcome = served.app.state.intake.handle(IncomingMessage(text="About 8 square metres", conversation_id=CONVERSATION,
                                                       channel="web"))
    assert outcome.case is not None and outcome.case.service_request_id == number
    browser.refresh()
    assert text_of(browser, "case-clock") == "due"
    assert text_of(browser, "case-paused-for").startswith("2 d 0 h")
    assert "The citizen replied" in browser.find_elements(By.CSS_SELECTOR, "#history li")[-1].text
    assert "> About 8 square metres" in mail_to(smtp.mailbox, ADDRESSES["pia"], "Follow-up on", number).text

    # an internal note, and a draft answer: it waits for review
    browser.find_element(By.ID, "note-text").send_keys("Checked the zoning map: residential lot.")
    submit(browser, browser.find_element(By.ID, "note-button"))
    assert "Only staff see this" in text_of(browser, "internal-notes")
    assert "Checked the zoning map: residential lot." in text_of(browser, "notes")
    assert text_of(browser, "send-reply") == "Submit for review"
    browser.find_element(By.ID, "reply-text").send_keys("No permit is needed for a shed of 8 square metres.")
    submit(browser, browser.find_element(By.ID, "send-reply"))
    assert text_of(browser, "flash").startswith("Your draft answer is waiting for review")
    assert text_of(browser, "draft-text") == "No permit is needed for a shed of 8 square metres."

    # the head returns it with a comment
    log_in(browser, served, "sam")
    assert open_from_view(browser, "review", number) == 1
    browser.find_element(By.ID, "return-comment").send_keys("Cite bylaw 12 so they can check.")
    submit(browser, browser.find_element(By.ID, "return-button"))
    assert text_of(browser, "flash") == "The draft is back with its officer, with your comment."
    returned = mail_to(smtp.mailbox, ADDRESSES["pia"], "Draft returned", number)
    assert "> Cite bylaw 12 so they can check." in returned.text
    # so far the citizen has received the question only
    updates = httpx.get(f"{served.url}/api/chat/updates", params={"sender": CONVERSATION})
    assert [m["text"] for m in updates.json()] == [f"{number}: How large is the shed, in square metres?"]

    # Pia corrects it
    log_in(browser, served, "pia")
    open_from_view(browser, "mine", number)
    assert text_of(browser, "returned-comment") == "Cite bylaw 12 so they can check."
    reply = browser.find_element(By.ID, "reply-text")
    assert reply.get_attribute("value") == "No permit is needed for a shed of 8 square metres."
    reply.clear()
    final = "Under bylaw 12, no permit is needed for a shed of 8 square metres."
    reply.send_keys(final)
    submit(browser, browser.find_element(By.ID, "send-reply"))

    # the head approves: the answer goes out
    log_in(browser, served, "sam")
    open_from_view(browser, "review", number)
    assert text_of(browser, "draft-text") == final
    submit(browser, browser.find_element(By.ID, "approve-button"))
    assert text_of(browser, "flash") == "Approved: the answer is on its way to the citizen."
    assert text_of(browser, "case-state") == "answered"
    assert text_of(browser, "case-clock") == "deadline met"
    assert history(browser)[1:] == ["assigned", "taken_over", "asked_details", "citizen_replied", "note",
                                    "draft_submitted", "draft_returned", "draft_submitted", "approved"]
    updates = httpx.get(f"{served.url}/api/chat/updates", params={"sender": CONVERSATION})
    assert [m["text"] for m in updates.json()] == [f"{number}: {final}"]


def test_an_overdue_case_escalated_from_the_supervisors_inbox_reaches_the_head_and_the_duty_officer(browser, served,
                                                                                                   smtp):
    cases: CaseDesk = served.app.state.cases
    case = open_case(cases, category="pothole", sla=SLA.SIMPLE, conversation_id="web-overdue",
                     text="A deep pothole outside the school on Birch Road")  # public works: 3 hours, any hour
    number = case.service_request_id
    cases.set_clock(FakeClock(cases.now() + timedelta(hours=3, minutes=1)))  # its deadline has passed
    log_in(browser, served, "vera")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#escalate button"))
    assert text_of(browser, "flash") == ("Escalated 1 overdue case; their department heads were notified.")
    for address in (PUBLIC_WORKS_HEAD, DUTY_OFFICER):
        overdue = mail_to(smtp.mailbox, address, "Overdue", number)
        assert overdue.subject.startswith(f"[CityDesk] Overdue: {number} for Public Works (due ")
        assert f"{served.url}/inbox/cases/{number}" in overdue.text
    browser.get(f"{served.url}/inbox/cases/{number}")
    assert history(browser)[-1] == "escalated" and text_of(browser, "case-clock") == "overdue"
