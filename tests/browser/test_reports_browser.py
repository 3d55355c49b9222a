"""The reports page in a real headless Chromium: a supervisor's figures, charts (SVG images under the desk's CSP),
drill-down to the cases and their CSV; a head sees their own department only. Against a hand-counted week of
traffic (tests/handoff/report_traffic.py) on a desk whose clock stands at the week's end."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from desk.app import create_app
from handoff.models import MessageDecision
from settings import Settings
from tests.browser.conftest import ServedApp
from tests.browser.test_inbox_browser import PAGE_LOAD_TIMEOUT_S, submit
from tests.desk.inbox_support import PASSWORD
from tests.handoff import report_traffic as traffic
from tests.support import free_port

USERS = {"chief": ("Sam Supervisor", "supervisor", None), "lena": ("Lena Kowalczyk", "head", "waste"),
         "wes": ("Wes Kowalski", "staff", "waste")}


@pytest.fixture(scope="module")
def desk_url(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("reports-desk"), desk_port=free_port(),
                        rasa_port=free_port())
    with ServedApp(create_app(settings), settings.host, settings.desk_port) as served:
        for username, (name, role, department) in USERS.items():
            served.app.state.staff.add(username=username, display_name=name, password=PASSWORD, role=role,
                                       department=department)
        served.app.state.cases.set_clock(lambda: traffic.NOW)
        traffic.seed(served.app.state.sessions)
        seed_topics(served.app.state.sessions)
        served.app.state.trend_job()  # the desk's scheduled job: the messages' topics and keywords, stored
        yield served.url


TOPIC_WEEK = "from=2026-11-09&to=2026-11-16"  # a week before the hand-counted ones


def seed_topics(sessions) -> None:
    """The week of 9 November: eight questions about sandbags and six reports of a water main (no category, no
    answer: a cluster), where the four weeks before had none; leaf pickup, asked ten times a week before, not at all."""
    week = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    rows = [(week + timedelta(hours=6 * n), "answer", "sandbags", "Where can I get sandbags?") for n in range(8)]
    rows += [(week + timedelta(days=2, minutes=10 * n), "out_of_scope", None,
              "The water main on Elm Street burst, the road is flooded") for n in range(6)]
    rows += [(week - timedelta(days=7 * w + 1, hours=n), "answer", "leaf-pickup", "When is leaf pickup this fall?")
             for w in range(4) for n in range(10)]
    with sessions.begin() as session:
        session.add_all(MessageDecision(at=at, channel="web", conversation_id=f"topic-{number}", text=text,
                                        intent=None, route=route, reason="test", entry_id=entry, confidence=None,
                                        case_id=None)
                        for number, (at, route, entry, text) in enumerate(rows))


def log_in(browser: WebDriver, url: str, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{url}/inbox/login?next=/reports")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(browser, browser.find_element(By.ID, "login-button"))


def figure(browser: WebDriver, key: str) -> tuple[str, str, str]:
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-figure="{key}"]')
    return tuple(row.find_element(By.CLASS_NAME, part).text for part in ("value", "previous", "change"))  # type: ignore[return-value]


def with_cookies(browser: WebDriver, url: str) -> httpx.Client:
    return httpx.Client(base_url=url, cookies={c["name"]: c["value"] for c in browser.get_cookies()})


def test_a_supervisor_reads_the_week_drills_down_and_downloads_the_cases(driver, desk_url):
    log_in(driver, desk_url, "chief")
    assert driver.current_url.endswith("/reports")
    assert driver.find_element(By.ID, "report-title").text == "Report · all departments"
    assert figure(driver, "received") == ("12", "3", "9")
    assert figure(driver, "auto_answered") == ("4", "2", "2")
    assert figure(driver, "handed_off") == ("3", "1", "2")
    assert figure(driver, "delay_rate") == ("0.5", "1.0", "-0.5")
    assert figure(driver, "first_response_p50_hours") == ("2.0", "4.0", "-2.0")
    departments = {row.get_attribute("data-department"): [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                   for row in driver.find_elements(By.CSS_SELECTOR, "#departments tbody tr")}
    assert departments == {"public-works": ["Public Works", "3", "3", "2", "33.3 %", "2.0", "0"],
                           "waste": ["Waste & Recycling", "1", "1", "0", "100.0 %", "\N{EN DASH}", "1"]}
    # every chart is an SVG image the browser drew (the CSP allows images from the desk, not inline styles)
    for name in ("volume", "response", "delay", "topics"):
        image = driver.find_element(By.ID, f"chart-{name}")
        WebDriverWait(driver, PAGE_LOAD_TIMEOUT_S).until(
            lambda _, image=image: driver.execute_script("return arguments[0].complete", image))
        assert driver.execute_script("return arguments[0].naturalWidth", image) > 0, name
    with with_cookies(driver, desk_url) as client:
        svg = client.get("/reports/charts/volume.svg")
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        assert "Messages per day" in svg.text and "<script" not in svg.text
    # drill-down: the overdue figure's cases, each linked to its inbox page
    submit(driver, driver.find_element(By.LINK_TEXT, "overdue now"))
    assert driver.find_element(By.ID, "drill-title").text == \
        "1 cases · past the deadline and unanswered now · all departments"
    assert [row.get_attribute("data-case") for row in driver.find_elements(By.CSS_SELECTOR, "#drill-cases tbody tr")] \
        == ["W1"]
    assert driver.find_element(By.LINK_TEXT, "W1").get_attribute("href").endswith("/inbox/cases/W1")
    submit(driver, driver.find_element(By.ID, "back"))
    submit(driver, driver.find_element(By.LINK_TEXT, "answered in time"))
    assert [row.get_attribute("data-case") for row in driver.find_elements(By.CSS_SELECTOR, "#drill-cases tbody tr")] \
        == ["R1", "E1"]
    href = driver.find_element(By.ID, "csv-download").get_attribute("href")
    with with_cookies(driver, desk_url) as client:
        download = client.get(href)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(row["service_request_id"], row["department"], row["sla"], row["first_response_hours"])
            for row in rows] == [("R1", "public-works", "simple", "2.00"), ("E1", "public-works", "emergency", "0.50")]


def test_a_head_sees_their_own_department_only(driver, desk_url):
    log_in(driver, desk_url, "lena")
    assert driver.find_element(By.ID, "report-title").text == "Report · Waste & Recycling"
    assert figure(driver, "received") == ("1", "0", "1")
    assert [row.get_attribute("data-department") for row in
            driver.find_elements(By.CSS_SELECTOR, "#departments tbody tr")] == ["waste"]
    assert not driver.find_elements(By.ID, "department")  # no department to choose
    with with_cookies(driver, desk_url) as client:
        assert client.get("/reports", params={"department": "public-works"}).status_code == 404
        other = client.get("/reports/cases.csv", params={"figure": "opened", "department": "public-works"})
        assert other.status_code == 404 and "R1" not in other.text


def test_staff_are_refused(driver, desk_url):
    log_in(driver, desk_url, "wes")
    with with_cookies(driver, desk_url) as client:
        assert client.get("/reports").status_code == 403


def test_hot_and_cold_topics_and_keywords_of_a_week(driver, desk_url):
    log_in(driver, desk_url, "chief")
    driver.get(f"{desk_url}/reports?{TOPIC_WEEK}")

    def rows(table: str) -> dict[str, list[str]]:
        return {row.get_attribute("data-topic"): [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr[data-topic]")}

    top = rows("topics")
    assert top["entry:sandbags"] == ["sandbags", "8", "0"]
    [cluster] = [topic for topic in top if topic.startswith("cluster:")]
    assert top[cluster] == ["\N{LEFT DOUBLE QUOTATION MARK}The water main on Elm Street burst, the road is flooded"
                            "\N{RIGHT DOUBLE QUOTATION MARK}", "6", "0"]
    hot = rows("hot-topics")
    assert set(hot) == {"entry:sandbags", cluster}
    assert hot["entry:sandbags"][:4] == ["sandbags", "8", "0", "0.0"]
    assert rows("cold-topics")["entry:leaf-pickup"][:4] == ["leaf-pickup", "0", "10", "10.0"]
    assert {"sandbags", "water", "elm"} <= set(rows("hot-keywords"))
    assert {"leaf", "pickup"} <= set(rows("cold-keywords"))
    image = driver.find_element(By.ID, "chart-topics")
    WebDriverWait(driver, PAGE_LOAD_TIMEOUT_S).until(
        lambda _: driver.execute_script("return arguments[0].complete", image))
    assert driver.execute_script("return arguments[0].naturalWidth", image) > 0
