"""The public dashboard on the disclosure site, in a real headless Chromium: per department and month, aggregates
only, counts under 5 shown as "<5", and the same cells as CSV. Hand-counted: the week of
tests/handoff/report_traffic.py plus six Waste & Recycling cases in November; the desk's clock at its end."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from selenium.webdriver.common.by import By

from database import create_db_engine, session_factory, upgrade
from desk.app import create_app
from handoff.models import Case, CaseState, MessageDecision
from knowledge_base.store import EntryRow
from settings import Settings
from tests.browser.conftest import ServedApp
from tests.handoff import report_traffic as traffic
from tests.support import free_port

W = "<5 cases"  # a rate or median resting on fewer than 5 cases: withheld
EXPECTED = [  # month, department, received, by the assistant, cases, in time, delay rate, median first response
    ["2026-12", "Public Works", "<5", "0", "<5", "<5", W, W],
    ["2026-12", "Waste & Recycling", "<5", "<5", "<5", "0", W, W],
    ["2026-12", "Parking Services", "<5", "<5", "0", "0", W, W],
    ["2026-11", "Public Works", "<5", "0", "<5", "0", W, W],
    ["2026-11", "Waste & Recycling", "6", "0", "6", "<5", "33.3 %", "1.0"],
    ["2026-11", "Parking Services", "<5", "<5", "0", "0", W, W],
    ["2026-11", "Public Library", "<5", "<5", "0", "0", W, W],
]


def seed_november(sessions) -> None:
    """Six waste cases on 10 November: four answered in 1 hour (in time), two in 5 hours (late, deadline 3 h)."""
    with sessions.begin() as session:
        for number in range(6):
            requested = datetime(2026, 11, 10, 14, 0, tzinfo=UTC) + timedelta(hours=number)
            answered = requested + timedelta(hours=1 if number < 4 else 5)
            case = Case(service_request_id=f"N{number}", description="the citizen's own words",
                        agency_responsible="waste", sla="simple", requested_datetime=requested,
                        updated_datetime=answered, expected_datetime=requested + timedelta(hours=3),
                        answered_at=answered, state=CaseState.ANSWERED, channel="web",
                        conversation_id=f"conv-N{number}", first_name="Private", email="private@example.org")
            session.add(case)
            session.flush()
            session.add(MessageDecision(at=requested, channel="web", conversation_id=f"conv-N{number}",
                                        text="private text", intent=None, route="case", reason="test",
                                        entry_id=None, confidence=None, case_id=case.id))
        for entry, department in (("bins", "Waste & Recycling"), ("parking", "Parking Services"),
                                  ("library_hours", "Public Library")):
            session.add(EntryRow(id=entry, question=f"About {entry}?", alt_questions=[], answer=f"{entry} answer",
                                 department=department, updated_at=traffic.NOW - timedelta(days=60)))


@pytest.fixture(scope="module")
def desk_url(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("dashboard-desk"), desk_port=free_port(),
                        rasa_port=free_port())
    upgrade(settings.resolved_database_url)
    engine = create_db_engine(settings.resolved_database_url)
    traffic.seed(session_factory(engine))
    seed_november(session_factory(engine))
    engine.dispose()
    with ServedApp(create_app(settings, clock=lambda: traffic.NOW), settings.host, settings.desk_port) as served:
        yield served.url


def test_the_public_dashboard_shows_aggregates_with_small_counts_hidden(driver, desk_url):
    driver.get(f"{desk_url}/disclosure/dashboard")
    assert driver.find_element(By.ID, "dashboard-title").text == "How the city answers, department by department"
    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in driver.find_elements(By.CSS_SELECTOR, "#dashboard tbody tr")]
    assert rows == EXPECTED
    page = driver.page_source
    assert "Private" not in page and "private" not in page and "N0" not in page
    href = driver.find_element(By.ID, "dashboard-csv").get_attribute("href")
    download = httpx.get(href, timeout=30)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(download.text)))
    assert table[0] == ["month", "department", "received", "answered_by_assistant", "cases", "answered_in_time",
                        "delay_rate", "median_response_hours"]
    assert table[1:] == EXPECTED
