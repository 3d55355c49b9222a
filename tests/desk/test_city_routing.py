"""A desk started on another city's knowledge base: its cases reach the departments its entries name, the service
categories map onto them, information questions for staff are simple cases, and the pages show the city's name."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
import yaml
from fastapi.testclient import TestClient
from rich.console import Console

from desk.app import create_app
from desk.cli import app as cli
from desk.cli import serve
from handoff.city_directory import CityDirectory
from handoff.directory import DEFAULT_DIRECTORY_FILE, load_directory
from knowledge_base.entry import Entry
from settings import Settings
from tests.conftest import write_jsonl
from tests.desk.conftest import flat
from tests.support import free_port

CITY = "Riverton"
# Departments of Riverton that Alderbrook's handoff/departments.yml does not have (but "Public Works").
ENTRIES = [
    {"id": "rv-housing-apply", "question": "How do I apply for affordable housing?", "department": "Housing",
     "answer": "Fill in the affordable housing application and send it to the housing office."},
    {"id": "rv-housing-income", "question": "What is the income limit for affordable homeownership?",
     "department": "Housing", "answer": "Households earning up to 80% of the area median income qualify."},
    {"id": "rv-housing-wait", "question": "How long is the waiting list for a housing voucher?",
     "department": "Housing", "answer": "About 18 months; we write to you when your turn comes."},
    {"id": "rv-court-fine", "question": "How do I pay a traffic fine at the municipal court?",
     "department": "Municipal Court", "answer": "Online, by mail, or at the court clerk's window."},
    {"id": "rv-court-date", "question": "Can I reschedule my court date?", "department": "Municipal Court",
     "answer": "Ask the court clerk at least five days before the hearing."},
    {"id": "rv-trash-day", "question": "What day is my trash collected?", "department": "Solid Waste",
     "answer": "Your collection day is on the city's map of garbage routes."},
    {"id": "rv-recycling", "question": "What goes in the recycling cart?", "department": "Solid Waste",
     "answer": "Paper, cardboard, cans and plastic bottles; no bags."},
    {"id": "rv-bulky", "question": "How do I schedule a bulky item pickup?", "department": "Solid Waste",
     "answer": "Book a bulky pickup online; two items a month are free."},
    {"id": "rv-barking", "question": "How do I report a barking dog?", "department": "Police",
     "answer": "Call the police non-emergency line."},
    {"id": "rv-pothole", "question": "How are potholes repaired?", "department": "Public Works",
     "answer": "Crews fill reported potholes within a week."},
]


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Settings:
    folder = tmp_path_factory.mktemp("riverton")
    # the city's own mapping: illegal dumping goes to Public Works (its entries would say Solid Waste)
    directory = yaml.safe_load(DEFAULT_DIRECTORY_FILE.read_text(encoding="utf-8"))
    directory["category_departments"] = {"illegal-dumping": "Public Works"}
    (folder / "departments.yml").write_text(yaml.safe_dump(directory), encoding="utf-8")
    return Settings(data_dir=folder / "data", seed_kb_file=write_jsonl(folder / "kb.jsonl", ENTRIES),
                    directory_file=folder / "departments.yml", city_name=CITY, rasa_port=free_port(),
                    answer_threshold=0.95, kb_refresh_interval_s=0.2)


@pytest.fixture(scope="module")
def client(city):
    with TestClient(create_app(city)) as test_client:
        yield test_client


def decide(client, city, text: str, *, intent: str | None, declined: bool = False) -> dict:
    response = client.post("/api/messages", headers={"Authorization": f"Bearer {city.resolved_internal_token}"},
                           json={"text": text, "conversation_id": f"web-{time.monotonic_ns()}", "intent": intent,
                                 "declined": declined})
    assert response.status_code == 200, response.text
    return response.json()


def agency(client, case: dict) -> str:
    """The case's `agency_responsible`, as Open311 publishes it (the department's name)."""
    [request] = client.get(f"/open311/v2/requests/{case['service_request_id']}.json").json()
    return request["agency_responsible"]


def test_a_case_reaches_the_department_the_city_s_entries_name(client, city):
    decision = decide(client, city, "I need someone to look at my affordable housing application, it has been "
                                    "pending for months", intent="request_human")
    assert (decision["route"], decision["case"]["sla"]) == ("case", "review")
    assert (decision["case"]["department"], decision["case"]["department_name"]) == ("housing", "Housing")
    assert agency(client, decision["case"]) == "Housing"
    cases = client.app.state.cases
    case = cases.get(decision["case"]["service_request_id"])
    assert (case.agency_responsible, case.routing_reason) == ("housing", "best-matching knowledge base entries")
    # until the city adds Housing to its file, the fallback department's head stands in
    assert cases.directory.department("housing").head == cases.directory.department("citizen-services").head
    assert cases.directory.department("housing").from_knowledge_base


def test_service_categories_map_onto_the_city_s_departments(client, city):
    missed = decide(client, city, "my trash was not picked up today, the bins are still out on the curb",
                    intent="report_problem")
    assert (missed["case"]["department_name"], missed["case"]["sla"]) == ("Solid Waste", "simple")
    assert agency(client, missed["case"]) == "Solid Waste"
    case = client.app.state.cases.get(missed["case"]["service_request_id"])
    assert (case.service_code, case.routing_reason) == ("missed-pickup", "category missed-pickup")
    # the city's mapping wins over its entries' vote
    dumped = decide(client, city, "someone dumped a mattress and old tires in the alley behind our house",
                    intent="report_problem")
    assert (dumped["case"]["department_name"], client.app.state.cases.get(
        dumped["case"]["service_request_id"]).service_code) == ("Public Works", "illegal-dumping")
    unmapped = CityDirectory(load_directory(DEFAULT_DIRECTORY_FILE), client.app.state.knowledge_base).directory
    assert unmapped.department(unmapped.category("illegal-dumping").department).name == "Solid Waste"
    # Open311 lists each service under the city's department
    services = {s["service_code"]: s["group"] for s in client.get("/open311/v2/services.json").json()}
    assert (services["missed-pickup"], services["illegal-dumping"], services["pothole"]) == (
        "Solid Waste", "Public Works", "Public Works")


def test_an_information_question_for_staff_is_simple_and_a_complaint_is_reviewed(client, city):
    question = decide(client, city, "how long is the waiting list for a housing voucher for seniors?",
                      intent=None, declined=True)
    assert (question["route"], question["case"]["sla"], question["case"]["department_name"]) == (
        "case", "simple", "Housing")
    complaint = decide(client, city, "my court fine was $400, the ticket said $90. what gives??",
                       intent=None, declined=True)
    assert (complaint["route"], complaint["case"]["sla"], complaint["case"]["department_name"]) == (
        "case", "review", "Municipal Court")
    due = {d["case"]["sla"]: datetime.fromisoformat(d["case"]["expected_datetime"]) for d in (question, complaint)}
    assert due["review"] - due["simple"] > timedelta(days=1)  # 3 hours against 3 days


def test_a_department_a_newly_published_entry_names_is_routed_to_within_seconds(client, city):
    client.app.state.knowledge_base.import_entries([Entry(
        id="rv-trails", question="Do I need a permit to hold an event on the open space trails?",
        answer="Yes, apply for an open space event permit.", department="Open Space and Mountain Parks")])
    deadline = time.monotonic() + 20
    while "open-space-and-mountain-parks" not in {d.code for d in client.app.state.cases.directory.departments}:
        assert time.monotonic() < deadline, "the directory was not rebuilt"
        time.sleep(0.1)
    decision = decide(client, city, "I need someone to help me with an event permit for the open space trails",
                      intent="request_human")
    assert decision["case"]["department_name"] == "Open Space and Mountain Parks"


def test_staff_accounts_can_join_a_department_only_the_entries_name(client, city, runner, monkeypatch):
    monkeypatch.setenv("CITYDESK_DIRECTORY_FILE", str(city.directory_file))
    monkeypatch.setenv("HOUSING_PASSWORD", "a long enough password")
    result = runner.invoke(cli, ["staff", "add", "hana", "--name", "Hana Housing", "--department", "housing",
                                 "--password-env", "HOUSING_PASSWORD", "--data-dir", str(city.data_dir)])
    assert result.exit_code == 0, result.output
    assert flat(result.output) == "Added staff hana (Hana Housing) in housing."
    refused = runner.invoke(cli, ["staff", "add", "olga", "--name", "Olga", "--department", "no-such-office",
                                  "--password-env", "HOUSING_PASSWORD", "--data-dir", str(city.data_dir)])
    assert refused.exit_code == 2 and "unknown department 'no-such-office'" in flat(refused.output)


def test_the_banner_and_the_pages_show_the_city_s_name(client, city, monkeypatch):
    console = Console(record=True, width=120)
    monkeypatch.setattr(serve, "console", console)
    serve._print_addresses(city)
    assert f"CityDesk is running for {CITY}" in console.export_text()
    for path in ("/", "/inbox/login", "/disclosure"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert CITY in page.text and "Alderbrook" not in page.text, path


def test_the_inbox_says_which_departments_only_the_entries_name_and_who_stands_in_as_head(client):
    client.app.state.staff.add(username="sue", display_name="Sue Supervisor", password="a long enough password",
                               role="supervisor")
    staff = TestClient(client.app)
    login = staff.get("/inbox/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    assert staff.post("/inbox/login", data={"username": "sue", "password": "a long enough password",
                                            "next": "/inbox", "csrf_token": token}).status_code == 200
    note = re.search(r'id="departments-from-entries">(.*?)</p>', staff.get("/inbox").text, re.DOTALL).group(1)
    assert "Housing" in note and "Municipal Court" in note and "Public Works" not in note
    head = client.app.state.cases.directory.department("citizen-services").head.name
    assert f"{head} (head of the fallback department)" in note
