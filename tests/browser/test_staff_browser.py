"""Login throttling in a real headless Chromium: after five wrong passwords the login form says the account is
locked (HTTP 429), even for the right password; an administrator sees the attempts in the audit log."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from desk.app import create_app
from desk.web.auth import LOGIN_FAILED
from settings import Settings
from tests.browser.conftest import ServedApp
from tests.browser.test_inbox_browser import submit, text_of
from tests.desk.inbox_support import PASSWORD
from tests.support import free_port


@pytest.fixture(scope="module")
def desk_url(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("staff-browser"), desk_port=free_port(),
                        rasa_port=free_port())
    with ServedApp(create_app(settings), settings.host, settings.desk_port) as served:
        staff = served.app.state.staff
        staff.add(username="pw.officer", display_name="Rosa Martinez", password=PASSWORD, role="staff",
                  department="public-works")
        staff.add(username="ada", display_name="Ada Admin", password=PASSWORD, role="admin")
        yield served.url


def log_in(browser: WebDriver, url: str, username: str, password: str) -> None:
    browser.get(f"{url}/inbox/login")
    browser.find_element(By.ID, "username").clear()
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    submit(browser, browser.find_element(By.ID, "login-button"))


def test_the_sixth_attempt_shows_the_lockout_and_the_audit_log_shows_the_attempts(driver, desk_url):
    browser = driver
    browser.get(f"{desk_url}/inbox/login")
    browser.delete_all_cookies()
    for _ in range(5):
        log_in(browser, desk_url, "pw.officer", "not the password")
        assert text_of(browser, "login-error") == LOGIN_FAILED
    log_in(browser, desk_url, "pw.officer", PASSWORD)  # the right password, too late
    message = text_of(browser, "login-error")
    assert message.startswith("Too many failed logins for this account. Logging in to it is blocked for 15 minutes")
    assert browser.current_url == f"{desk_url}/inbox/login"
    assert browser.find_element(By.ID, "login-button").is_displayed()  # the page, its form, still there
    browser.get(f"{desk_url}/inbox")
    assert "/inbox/login?next=" in browser.current_url  # not logged in

    log_in(browser, desk_url, "ada", PASSWORD)
    assert browser.current_url == f"{desk_url}/inbox/admin/staff"
    browser.get(f"{desk_url}/inbox/admin/audit?subject=pw.officer")
    actions = [row.get_attribute("data-action") for row in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    assert actions == ["login.throttled"] + ["login.failed"] * 5 + ["account.created"]
    assert text_of(browser, "audit-total") == "7 lines"
