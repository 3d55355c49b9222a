"""Emergency broadcasts in a real headless Chromium: a broadcaster drafts an alert and sees its preview; approving
it herself is refused on the page; a supervisor approves and sends it; the progress and the timeline show it; the
web chat and the disclosure site show the banner; the public archive lists it and its CAP 1.2 URL answers."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from desk.app import create_app
from settings import Settings
from tests.broadcasts.cap_schema import assert_valid_cap
from tests.broadcasts.conftest import add_subscribers
from tests.browser.conftest import ServedApp
from tests.browser.test_inbox_browser import submit, text_of
from tests.desk.inbox_support import PASSWORD
from tests.support import free_port


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("broadcasts-browser"), desk_port=free_port(),
                        rasa_port=free_port())
    with ServedApp(create_app(settings), settings.host, settings.desk_port) as app:
        staff = app.app.state.staff
        staff.add(username="ben", display_name="Ben Broadcaster", password=PASSWORD, role="broadcaster")
        staff.add(username="ana", display_name="Ana Supervisor", password=PASSWORD, role="supervisor")
        add_subscribers(app.app.state.sessions, "web", ["web-one", "web-two"])
        yield app


def log_in(browser: WebDriver, url: str, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{url}/inbox/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(browser, browser.find_element(By.ID, "login-button"))


def test_two_people_send_an_alert_from_the_pages(driver, served):
    browser, url = driver, served.url
    log_in(browser, url, "ben")
    assert browser.current_url == f"{url}/inbox/broadcasts"
    Select(browser.find_element(By.ID, "template")).select_by_value("flood")
    browser.find_element(By.ID, "text").send_keys("The Alder river is rising fast.")
    browser.find_element(By.ID, "area").send_keys("Riverside")
    browser.find_element(By.ID, "channel-x").click()  # unticked: Telegram and the web only
    submit(browser, browser.find_element(By.ID, "draft"))
    alert_id = int(browser.current_url.rsplit("/", 1)[1])
    assert text_of(browser, "alert-headline") == "Flood warning: Riverside"
    assert "The Alder river is rising fast." in text_of(browser, "preview-telegram")
    assert text_of(browser, "preview-web") == "Flood warning: Riverside"
    assert text_of(browser, "own-draft").startswith("You drafted this alert")

    submit(browser, browser.find_element(By.ID, "approve"))  # her own: refused
    assert text_of(browser, "broadcast-error") == (f"Ben drafted alert {alert_id} and cannot approve it: another "
                                                   "supervisor or broadcaster must.")
    assert text_of(browser, "alert-state") == "draft"
    assert browser.find_elements(By.ID, "send") == []

    log_in(browser, url, "ana")
    browser.get(f"{url}/inbox/broadcasts/{alert_id}")
    submit(browser, browser.find_element(By.ID, "approve"))
    assert text_of(browser, "alert-state") == "approved" and text_of(browser, "approved-by") == "ana"
    submit(browser, browser.find_element(By.ID, "send"))
    assert text_of(browser, "alert-state") == "released"
    web_row = browser.find_element(By.CSS_SELECTOR, '#progress tr[data-channel="web"]')
    assert web_row.find_element(By.CLASS_NAME, "pending").text == "2"
    timeline = [li.get_attribute("data-action") for li in browser.find_elements(By.CSS_SELECTOR, "#timeline li")]
    assert timeline == ["broadcast.drafted", "broadcast.approval_refused", "broadcast.approved", "broadcast.released"]

    for page in ("/", "/disclosure", "/alerts"):
        browser.get(f"{url}{page}")
        banners = browser.find_elements(By.CSS_SELECTOR, ".alert-banner")
        assert [b.text for b in banners] == ["Flood warning: Riverside"], page
    assert [li.get_attribute("data-id") for li in browser.find_elements(By.CSS_SELECTOR, ".archived-alert")] == [
        str(alert_id)]
    cap = httpx.get(f"{url}/alerts/{alert_id}/cap.xml")
    assert cap.status_code == 200 and cap.headers["content-type"] == "application/cap+xml"
    assert_valid_cap(cap.content)
    feed = httpx.get(f"{url}/alerts.atom")
    assert feed.status_code == 200 and f"/alerts/{alert_id}/cap.xml" in feed.text
