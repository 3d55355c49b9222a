"""The inbox at scale, at a small size, over HTTP: full-text search (case number, words, channel, handle), paging,
filters (department, state, overdue, mine, deadline class), the closed-cases view and the counts per filter.
(The 100k-case timings are scripts/bench_inbox.py's, not a test.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from handoff.directory import SLA
from handoff.models import Case
from handoff.routing import route_case
from handoff.service import Actor, CaseDesk
from settings import Settings
from tests.desk.inbox_support import add_users, element, logged_in
from tests.handoff.conftest import desk_at
from tests.support import free_port

ROWS = re.compile(r'<tr class="case[^"]*" data-case="([^"]+)" data-department="([^"]+)"')
STREETLIGHTS = 55


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("inbox-search"), rasa_port=free_port())


def file_case(cases: CaseDesk, text: str, department: str, *, channel: str = "web", conversation: str = "web-x",
              sla: SLA = SLA.SIMPLE) -> Case:
    directory = cases.directory
    return cases.open_case(description=text, channel=channel, conversation_id=conversation, sla=sla,
                           assignment=route_case(directory=directory,
                                                 entry_matches=[(directory.department(department).name, 0.9)]))


@pytest.fixture(scope="module")
def desk(settings):
    """59 open Public Works cases (3 overdue, 1 claimed by rosa, 1 policy), 1 closed; 2 Waste cases."""
    application = create_app(settings)
    with TestClient(application):
        add_users(application.state.staff)
        cases: CaseDesk = application.state.cases
        past = desk_at(settings, cases.now() - timedelta(days=5))
        overdue = [file_case(past, "Pothole on Birch Road", "public-works"),
                   file_case(past, "Pothole by the school", "public-works", channel="telegram",
                             conversation="telegram-4455"),
                   file_case(past, "Pothole near the bridge", "public-works")]
        lights = [file_case(cases, f"Streetlight out on Maple Avenue number {i}", "public-works")
                  for i in range(STREETLIGHTS)]
        policy = file_case(cases, "Please add a bike lane on Elm Street", "public-works", sla=SLA.POLICY)
        rosa = Actor("rosa", role="staff", department="public-works")
        cases.claim(service_request_id=lights[10].service_request_id, actor=rosa)
        closed = file_case(cases, "Graffiti on the Maple Avenue bridge", "public-works")
        cases.close(service_request_id=closed.service_request_id, actor=rosa, note="Cleaned.")
        waste = [file_case(cases, "Missed pickup on Cedar Court", "waste"),
                 file_case(cases, "Missed pickup of the recycling bin", "waste")]
        yield {"app": application, "overdue": overdue, "lights": lights, "policy": policy, "closed": closed,
               "waste": waste}


@pytest.fixture(scope="module")
def rosa(desk) -> TestClient:
    return logged_in(desk["app"], "rosa")


def shown(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [number for number, _ in ROWS.findall(response.text)]


def test_pages_of_fifty_oldest_deadline_first_with_the_count_and_links(desk, rosa):
    first = rosa.get("/inbox")
    numbers = shown(first)
    assert len(numbers) == 50
    assert numbers[:3] == [c.service_request_id for c in desk["overdue"]]  # the overdue ones first
    assert element(first, "matches") == "59 cases; showing 1 to 50."
    assert element(first, "page-of") == "Page 1 of 2"
    assert 'href="/inbox?page=2" id="next"' in first.text and 'id="previous"' not in first.text
    second = rosa.get("/inbox?page=2")
    rest = shown(second)
    assert len(rest) == 9 and not set(rest) & set(numbers)
    assert element(second, "matches") == "59 cases; showing 51 to 59."
    assert shown(rosa.get("/inbox?page=99")) == rest  # past the end: the last page


def test_search_by_words_case_number_channel_and_handle_only_in_ones_own_department(desk, rosa):
    assert len(shown(rosa.get("/inbox", params={"q": "maple"}))) == 50
    assert element(rosa.get("/inbox", params={"q": "maple"}), "matches") == (
        "55 cases match; showing 1 to 50. 1 closed case matches too. Clear")  # the graffiti on the Maple Avenue bridge
    assert shown(rosa.get("/inbox", params={"q": "Maple avenue 7"})) == [desk["lights"][7].service_request_id]
    assert shown(rosa.get("/inbox", params={"q": "potho"})) == [c.service_request_id for c in desk["overdue"]]
    number = desk["lights"][42].service_request_id
    assert shown(rosa.get("/inbox", params={"q": number})) == [number]
    assert shown(rosa.get("/inbox", params={"q": number.lower()})) == [number]
    assert shown(rosa.get("/inbox", params={"q": "telegram"})) == [desk["overdue"][1].service_request_id]
    assert shown(rosa.get("/inbox", params={"q": "4455"})) == [desk["overdue"][1].service_request_id]
    # another department's case: not found, the page says so
    other = rosa.get("/inbox", params={"q": desk["waste"][0].service_request_id})
    assert shown(other) == [] and element(other, "no-cases").startswith("No case matches.")
    assert shown(rosa.get("/inbox", params={"q": "pickup"})) == []
    assert shown(rosa.get("/inbox", params={"q": "\"*) OR NOT ("})) == []  # FTS syntax is only text


def test_filters_and_their_counts(desk, rosa):
    page = rosa.get("/inbox")
    counts = {key: element(page, f"count-{key}") for key in ("overdue", "mine", "state-new", "state-assigned",
                                                             "sla-simple", "sla-policy")}
    assert counts == {"overdue": "Overdue 3", "mine": "Mine 1", "state-new": "New 58",
                      "state-assigned": "Assigned 1", "sla-simple": "simple 58", "sla-policy": "policy 1"}
    # one bar of views, open and closed, each with its count
    assert [element(page, f"tab-{view}") for view in ("all", "mine", "unassigned", "review", "closed")] == [
        "All open 59", "My cases 1", "Unassigned 58", "Awaiting review 0", "Closed 1"]
    assert "view-open" not in page.text and "view-closed" not in page.text
    assert shown(rosa.get("/inbox?overdue=1")) == [c.service_request_id for c in desk["overdue"]]
    assert shown(rosa.get("/inbox?mine=1")) == [desk["lights"][10].service_request_id]
    assert shown(rosa.get("/inbox?state=assigned")) == [desk["lights"][10].service_request_id]
    assert shown(rosa.get("/inbox?sla=policy")) == [desk["policy"].service_request_id]
    assert shown(rosa.get("/inbox?q=pothole&overdue=1&sla=simple")) == [c.service_request_id for c in desk["overdue"]]
    assert shown(rosa.get("/inbox?q=maple&mine=1")) == [desk["lights"][10].service_request_id]
    # the counts follow the search
    searched = rosa.get("/inbox?q=pothole")
    assert element(searched, "count-overdue") == "Overdue 3" and element(searched, "count-mine") == "Mine 0"
    # a staff member's department is their own, whatever the address says
    assert {d for _, d in ROWS.findall(rosa.get("/inbox?department=waste").text)} == {"public-works"}
    # unknown filter values are ignored
    assert len(shown(rosa.get("/inbox?state=nonsense&sla=nonsense"))) == 50


def test_the_closed_cases_view(desk, rosa):
    closed = rosa.get("/inbox?view=closed")
    assert shown(closed) == [desk["closed"].service_request_id]
    assert "Closed cases · " in closed.text
    assert shown(rosa.get("/inbox?view=closed&q=graffiti")) == [desk["closed"].service_request_id]
    assert shown(rosa.get("/inbox?view=open&q=graffiti")) == []
    assert element(rosa.get("/inbox?view=open&q=graffiti"), "other-view") == "1 closed case matches too"
    assert element(closed, "tab-closed") == "Closed 1" and 'aria-current="page">Closed' in closed.text


def test_a_supervisor_searches_every_department_or_one(desk):
    sam = logged_in(desk["app"], "sam")
    assert shown(sam.get("/inbox?q=pickup")) == [c.service_request_id for c in desk["waste"]]
    assert element(sam.get("/inbox"), "matches") == "61 cases; showing 1 to 50."
    only_waste = sam.get("/inbox?department=waste&q=missed")
    assert {d for _, d in ROWS.findall(only_waste.text)} == {"waste"} and len(shown(only_waste)) == 2
    assert shown(sam.get("/inbox?department=waste&q=maple")) == []


def test_a_search_with_many_matches_reads_the_same_pages_in_the_order_index(desk, rosa, monkeypatch):
    expected = {path: shown(rosa.get(path)) for path in ("/inbox?q=maple", "/inbox?q=maple&page=2",
                                                          "/inbox?q=maple&view=closed", "/inbox?q=pothole&overdue=1")}
    monkeypatch.setattr("handoff.inbox_search.MANY_MATCHES", 1)  # SQLite: the `+id` plan from one match on
    assert {path: shown(rosa.get(path)) for path in expected} == expected
    assert len(expected["/inbox?q=maple"]) == 50 and len(expected["/inbox?q=maple&page=2"]) == 5
