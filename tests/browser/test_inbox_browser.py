"""The staff inbox in a real headless Chromium, against the desk served on a free port with the demo knowledge base."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from desk.app import create_app
from desk.web.auth import LOGIN_FAILED
from handoff.directory import SLA
from handoff.intake import IncomingMessage
from handoff.models import Case
from handoff.service import CaseDesk
from outbox.store import waiting_for
from settings import DEMO_KB_FILE, Settings
from tests.browser.conftest import ServedApp
from tests.desk.inbox_support import PASSWORD
from tests.handoff.conftest import desk_at, open_case
from tests.support import free_port

PAGE_LOAD_TIMEOUT_S = 20
# username: (display name, role, department)
USERS = {"pw.officer": ("Rosa Martinez", "staff", "public-works"),
         "waste.officer": ("Wes Kowalski", "staff", "waste"),
         "chief": ("Sam Supervisor", "supervisor", None)}


@dataclass(frozen=True)
class Desk:
    url: str
    cases: CaseDesk
    overdue: Case
    pothole: Case
    streetlight: Case
    review: Case
    missed_pickup: Case


def report(served: ServedApp, text: str, conversation_id: str, department: str) -> Case:
    """A citizen's report through the hand-off, as the assistant sends it."""
    outcome = served.app.state.intake.handle(IncomingMessage(text=text, conversation_id=conversation_id,
                                                             channel="web", intent="report_problem"))
    assert outcome.case is not None and outcome.case.agency_responsible == department, outcome.decision
    return outcome.case


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser-desk"), seed_kb_file=DEMO_KB_FILE,
                        desk_port=free_port(), rasa_port=free_port())
    with ServedApp(create_app(settings), settings.host, settings.desk_port) as served:
        for username, (name, role, department) in USERS.items():
            served.app.state.staff.add(username=username, display_name=name, password=PASSWORD, role=role,
                                       department=department)
        cases: CaseDesk = served.app.state.cases
        overdue = open_case(desk_at(settings, datetime.now(UTC) - timedelta(hours=5)), category="sidewalk",
                            text="Broken sidewalk slab on Pine Road, people trip on it", conversation_id="web-slab")
        yield Desk(
            url=served.url, cases=cases, overdue=overdue,
            pothole=report(served, "There is a huge pothole outside 14 Elm Street, it damaged my tire",
                           "web-pothole", "public-works"),
            streetlight=report(served, "The street light on Oak Avenue is out and the whole street is dark",
                               "web-light", "public-works"),
            review=open_case(cases, category=None, department="public-works", sla=SLA.REVIEW,
                             text="Who decides when my street gets resurfaced?", conversation_id="web-review"),
            missed_pickup=report(served, "My recycling bin was skipped again on Birch Lane", "web-bin", "waste"))


@pytest.fixture
def browser(driver, desk) -> WebDriver:
    """The module's Chromium, logged out."""
    driver.get(f"{desk.url}/inbox/login")
    driver.delete_all_cookies()
    return driver


def submit(browser: WebDriver, button: WebElement) -> None:
    """Click a button that sends a form, and wait until the next page has replaced this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, PAGE_LOAD_TIMEOUT_S).until(lambda _: _is_gone(page))


def _is_gone(element: WebElement) -> bool:
    """True once the element's page has been replaced.

    Mid-navigation, Chromium may answer "Node with given id does not belong to the document" (a plain
    WebDriverException) instead of a stale-element error: both mean the old page is gone.
    """
    try:
        element.is_enabled()
    except WebDriverException:  # StaleElementReferenceException is one too
        return True
    return False


def log_in(browser: WebDriver, desk: Desk, username: str, password: str = PASSWORD) -> None:
    browser.get(f"{desk.url}/inbox/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    submit(browser, browser.find_element(By.ID, "login-button"))


def text_of(browser: WebDriver, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def inbox_rows(browser: WebDriver) -> list[tuple[str, str, bool]]:
    """(case number, department, highlighted as overdue) of each row, top to bottom."""
    return [(row.get_attribute("data-case"), row.get_attribute("data-department"),
             "overdue" in row.get_attribute("class").split())
            for row in browser.find_elements(By.CSS_SELECTOR, "#cases tbody tr")]


def open_case_page(browser: WebDriver, case: Case) -> None:
    submit(browser, browser.find_element(By.LINK_TEXT, case.service_request_id))
    assert text_of(browser, "case-number") == case.service_request_id


def test_a_bad_password_is_refused_with_the_message_and_the_username_kept(browser, desk):
    log_in(browser, desk, "pw.officer", "not the password")
    assert text_of(browser, "login-error") == LOGIN_FAILED
    assert browser.find_element(By.ID, "username").get_attribute("value") == "pw.officer"
    assert browser.current_url.endswith("/inbox/login")
    browser.get(f"{desk.url}/inbox")
    assert "/inbox/login?next=" in browser.current_url


def test_public_works_staff_see_only_public_works_cases_oldest_deadline_first(browser, desk):
    log_in(browser, desk, "pw.officer")
    assert browser.current_url == f"{desk.url}/inbox"
    assert text_of(browser, "who") == "Rosa Martinez · staff · public-works"
    rows = inbox_rows(browser)
    assert {department for _, department, _ in rows} == {"public-works"}
    ours = [desk.overdue, desk.pothole, desk.streetlight, desk.review]
    numbers = [number for number, _, _ in rows]
    assert [n for n in numbers if n in {c.service_request_id for c in ours}] == [c.service_request_id for c in ours]
    assert desk.missed_pickup.service_request_id not in numbers
    highlighted = {number for number, _, overdue in rows if overdue}
    assert desk.overdue.service_request_id in highlighted
    assert desk.pothole.service_request_id not in highlighted
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-case="{desk.overdue.service_request_id}"]')
    assert "overdue by 2 h" in row.text  # opened 5 h ago, due 3 h after
    # the session cookie is HttpOnly: page scripts cannot read it
    assert browser.execute_script("return document.cookie") == ""


def test_claim_pick_a_template_and_reply_the_reply_reaches_the_citizens_web_chat(browser, desk):
    case = desk.pothole
    log_in(browser, desk, "pw.officer")
    open_case_page(browser, case)
    assert text_of(browser, "case-address") == "14 Elm Street"
    assert text_of(browser, "case-channel") == "web · conversation web-pothole"
    submit(browser, browser.find_element(By.ID, "claim-button"))
    assert text_of(browser, "flash") == "You have claimed this case."
    assert text_of(browser, "case-assignee") == "pw.officer"

    Select(browser.find_element(By.ID, "template")).select_by_visible_text("Repair scheduled")
    submit(browser, browser.find_element(By.ID, "use-template"))
    reply = browser.find_element(By.ID, "reply-text")
    prefilled = reply.get_attribute("value")
    assert prefilled.startswith("Thank you for reporting the road damage at 14 Elm Street.")
    assert prefilled.endswith(f"Case {case.service_request_id}.")
    reply.send_keys(" Thank you for your patience.")
    submit(browser, browser.find_element(By.ID, "send-reply"))

    text = f"{prefilled} Thank you for your patience."
    assert text_of(browser, "flash") == "Your reply is on its way to the citizen."
    assert text_of(browser, "case-state") == "answered"
    last = browser.find_elements(By.CSS_SELECTOR, "#history li")[-1]
    assert last.get_attribute("data-kind") == "replied"
    assert "Replied to the citizen by pw.officer" in last.text and text in last.text
    assert [m.text for m in waiting_for(desk.cases.sessions, channel="web", conversation_id="web-pothole")] == [
        f"{case.service_request_id}: {text}"]
    updates = httpx.get(f"{desk.url}/api/chat/updates", params={"sender": "web-pothole"})
    assert updates.status_code == 200
    assert [m["text"] for m in updates.json()] == [f"{case.service_request_id}: {text}"]


def test_reassign_needs_a_reason_then_the_case_leaves_the_inbox(browser, desk):
    case = desk.streetlight
    log_in(browser, desk, "pw.officer")
    open_case_page(browser, case)
    Select(browser.find_element(By.ID, "reassign-department")).select_by_visible_text("Waste & Recycling")
    submit(browser, browser.find_element(By.ID, "reassign-button"))
    assert text_of(browser, "reassign-error") == "Say why the case goes to another department."
    department = Select(browser.find_element(By.ID, "reassign-department"))
    assert department.first_selected_option.text == "Waste & Recycling"
    browser.find_element(By.ID, "reassign-reason").send_keys("The light is on a recycling depot's private lot")
    submit(browser, browser.find_element(By.ID, "reassign-button"))
    assert browser.current_url == f"{desk.url}/inbox"
    assert text_of(browser, "flash") == f"Case {case.service_request_id} is now with Waste & Recycling."
    assert case.service_request_id not in [number for number, _, _ in inbox_rows(browser)]
    moved = desk.cases.get(case.service_request_id)
    assert (moved.agency_responsible, moved.events[-1].kind, moved.events[-1].text) == (
        "waste", "reassigned", "The light is on a recycling depot's private lot")


def test_close_with_a_note(browser, desk):
    case = desk.review
    log_in(browser, desk, "pw.officer")
    open_case_page(browser, case)
    browser.find_element(By.ID, "close-note").send_keys("Answered by phone.")
    submit(browser, browser.find_element(By.ID, "close-button"))
    assert text_of(browser, "flash") == "The case is closed."
    assert text_of(browser, "closed-note") == "This case is closed; it can no longer be changed."
    assert browser.find_elements(By.ID, "reply") == []
    last = browser.find_elements(By.CSS_SELECTOR, "#history li")[-1]
    assert last.get_attribute("data-kind") == "closed" and "Answered by phone." in last.text
    assert desk.cases.get(case.service_request_id).status == "closed"


def test_a_waste_officer_opening_a_public_works_case_by_url_gets_not_found(browser, desk):
    log_in(browser, desk, "waste.officer")
    assert {department for _, department, _ in inbox_rows(browser)} == {"waste"}
    browser.get(f"{desk.url}/inbox/cases/{desk.pothole.service_request_id}")
    assert text_of(browser, "error-title") == "Case not found"
    assert text_of(browser, "error-message") == f"There is no case {desk.pothole.service_request_id} in your inbox."
    assert "pothole" not in browser.find_element(By.TAG_NAME, "main").text.lower()


def test_a_supervisor_sees_every_department_and_can_filter(browser, desk):
    log_in(browser, desk, "chief")
    departments = {department for _, department, _ in inbox_rows(browser)}
    assert {"public-works", "waste"} <= departments
    Select(browser.find_element(By.ID, "department")).select_by_visible_text("Waste & Recycling")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#filter button"))
    assert browser.current_url == f"{desk.url}/inbox?department=waste"
    rows = inbox_rows(browser)
    assert {department for _, department, _ in rows} == {"waste"}
    assert desk.missed_pickup.service_request_id in [number for number, _, _ in rows]
