"""Open311 GeoReport v2 endpoints over real HTTP (in-process), with the real model and a temporary database."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from database import create_db_engine, session_factory
from desk.api.deps import get_settings
from desk.api.open311 import MAX_DESCRIPTION_CHARS
from handoff.deadlines import describe_deadline
from handoff.directory import SLA, default_directory
from handoff.georeport import public_address
from handoff.models import Case
from handoff.routing import route_case
from handoff.service import Actor, CaseDesk
from outbox.mail import SmtpServer, mail_sender
from outbox.store import waiting_for
from settings import DEMO_KB_FILE, Settings
from tests.outbox.smtp_server import smtp_server
from tests.privacy.conftest import REDACTOR
from tests.support import free_port
from tests.transcripts.conftest import writer_for

DIRECTORY = default_directory()
CITY = "America/New_York"
KEY = "key-one"
FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
          "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
          "address", "address_id", "zipcode", "lat", "long", "media_url"}
CONTACT = {"email": "ann.lee@example.org", "first_name": "Ann", "last_name": "Leeworth", "phone": "555-0142",
           "device_id": "device-7f3c", "account_id": "acct-99812"}


@pytest.fixture(scope="module")
def desk_settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("open311"), seed_kb_file=DEMO_KB_FILE, rasa_port=free_port(),
                    open311_api_keys=SecretStr(f" {KEY} , key-two,"))


@pytest.fixture(scope="module")
def cases(client) -> CaseDesk:
    return client.app.state.cases


def all_cases(cases: CaseDesk) -> list[Case]:
    return cases.requests(limit=100_000)


def local_iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(CITY)).replace(microsecond=0).isoformat()


def file(client, **fields) -> object:
    return client.post("/open311/v2/requests.json", data={"api_key": KEY, **fields})


# services


def test_services_are_the_directory_categories(client):
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 200
    services = response.json()
    assert [s["service_code"] for s in services] == [c.code for c in DIRECTORY.categories]
    assert services[0] == {
        "service_code": "pothole", "service_name": "Pothole or damaged road",
        "description": "Pothole or damaged road: handled by Public Works, answered within 3 hours.",
        "metadata": False, "type": "realtime",
        "keywords": "huge pothole on the road, crack in the street damaged my tire, road surface broken and sinking",
        "group": "Public Works"}
    for service, category in zip(services, DIRECTORY.categories, strict=True):
        assert service["group"] == DIRECTORY.department(category.department).name
        assert (service["service_name"], service["metadata"], service["type"]) == (
            category.name, bool(category.attributes), "realtime")
    assert [s["service_code"] for s in services if s["metadata"]] == ["streetlight", "missed-pickup",
                                                                      "abandoned-vehicle"]


@pytest.mark.parametrize("path", ["/open311/v2/services.csv", "/open311/v2/requests.csv",
                                  "/open311/v2/requests/CD-2026-000001.csv", "/open311/v2/services/pothole.csv",
                                  "/open311/v2/servicerequestupdates.csv"])
def test_formats_other_than_json_and_xml_are_refused_clearly(client, path):
    response = client.get(path)
    assert response.status_code == 400
    resource = path.removeprefix("/open311/v2/").removesuffix(".csv")
    assert response.json() == [{"code": 400, "description": f"Ask for {resource}.json or {resource}.xml "
                                                            "(the format 'csv' is not supported)."}]


# filing a request


def test_a_filed_request_opens_a_routed_case_and_keeps_the_contact_fields(client, cases):
    response = file(client, service_code="pothole", description="Deep pothole in the right lane",
                    address_string="14 Elm St", lat="42.3601", long="-71.0589", jurisdiction_id="alderbrook",
                    **CONTACT)
    assert response.status_code == 201
    [filed] = response.json()
    case = cases.get(filed["service_request_id"])
    assert filed == {"service_request_id": case.service_request_id, "account_id": None,
                     "service_notice": "Public Works has it and will answer "
                                       f"{describe_deadline(case.expected_datetime, case.requested_datetime, CITY)}."}
    assert (case.channel, case.service_code, case.service_name, case.agency_responsible) == (
        "open311", "pothole", "Pothole or damaged road", "public-works")
    assert (case.sla, case.status, case.state, case.routing_reason) == ("simple", "open", "new", "category pothole")
    assert case.expected_datetime == case.requested_datetime + timedelta(hours=3)
    assert (case.description, case.address, case.lat, case.long) == (
        "Deep pothole in the right lane", "14 Elm St", 42.3601, -71.0589)
    assert {f: getattr(case, f) for f in CONTACT} == CONTACT
    assert case.conversation_id.startswith("open311-")
    [decision] = cases.decisions(case.conversation_id)
    assert (decision.channel, decision.intent, decision.route, decision.reason, decision.case_id) == (
        "open311", "report_problem", "case", "intent report_problem", case.id)


def test_a_filed_request_is_routed_by_its_service_code_not_by_its_wording(client, cases):
    response = client.post("/open311/v2/requests.json",
                           json={"api_key": "key-two", "service_code": "missed-pickup",
                                 "description": "How do I pay a parking ticket?"})
    assert response.status_code == 201
    case = cases.get(response.json()[0]["service_request_id"])
    assert (case.service_code, case.agency_responsible, case.sla, case.address) == (
        "missed-pickup", "waste", "simple", None)
    assert {f: getattr(case, f) for f in CONTACT} == dict.fromkeys(CONTACT)


def test_attributes_alone_describe_a_request(client, cases):
    response = client.post("/open311/v2/requests.json",
                           data={"api_key": KEY, "service_code": "streetlight", "attribute[pole]": "A-113",
                                 "attribute[state]": "flickering"})
    assert response.status_code == 201
    case = cases.get(response.json()[0]["service_request_id"])
    assert (case.description, case.agency_responsible) == ("pole: A-113\nstate: flickering", "public-works")


def test_emergency_wording_in_a_filed_request_queues_an_alert_to_the_duty_officer(client, cases):
    response = file(client, service_code="water-leak", description="I smell gas next to the leaking hydrant")
    assert response.status_code == 201
    [filed] = response.json()
    assert filed["service_notice"] == ("Flagged as an emergency: the duty officer has been alerted and Water & "
                                       "Utilities has it. If anyone is in danger, call the emergency number now.")
    case = cases.get(filed["service_request_id"])
    assert (case.is_emergency, case.sla, case.agency_responsible) == (True, "emergency", "water")
    alerts = waiting_for(cases.sessions, channel="email", conversation_id=DIRECTORY.duty_officer.email)
    assert [a.case_id for a in alerts] == [case.id]


def refused(response, status: int, *descriptions: str) -> None:
    assert response.status_code == status
    assert response.json() == [{"code": status, "description": d} for d in descriptions]


def test_a_missing_or_forged_key_is_refused_logged_and_opens_nothing(client, cases, caplog):
    before = len(all_cases(cases))
    caplog.set_level(logging.WARNING, logger="citydesk.open311")
    fields = {"service_code": "pothole", "description": "pothole"}
    refused(client.post("/open311/v2/requests.json", data=fields), 403,
            "An api_key is required to file a service request.")
    refused(client.post("/open311/v2/requests.json", data={**fields, "api_key": "  "}), 403,
            "An api_key is required to file a service request.")
    refused(client.post("/open311/v2/requests.json", data={**fields, "api_key": "key-on"}), 403,
            "The api_key is not valid.")
    refused(client.post("/open311/v2/requests.json", json={**fields, "api_key": ["key-one"]}), 403,
            "An api_key is required to file a service request.")
    # the key is checked before anything else is looked at
    refused(client.post("/open311/v2/requests.json", data={"api_key": "forged", "service_code": "nope"}), 403,
            "The api_key is not valid.")
    messages = [r.getMessage() for r in caplog.records if r.name == "citydesk.open311"]
    assert len(messages) == 5
    assert sum("no api_key" in m for m in messages) == 3
    assert sum("unknown api_key (fingerprint " in m for m in messages) == 2
    assert not any("key-on" in m or "forged" in m for m in messages)
    assert len(all_cases(cases)) == before


def test_filing_is_disabled_when_no_keys_are_configured(client, cases, desk_settings, caplog):
    before = len(all_cases(cases))
    client.app.dependency_overrides[get_settings] = lambda: desk_settings.model_copy(
        update={"open311_api_keys": SecretStr("")})
    try:
        response = file(client, service_code="pothole", description="pothole on Main St")
    finally:
        client.app.dependency_overrides.clear()
    refused(response, 403, "Filing service requests is disabled on this desk: no API keys are configured.")
    assert "filing is disabled" in caplog.text
    assert len(all_cases(cases)) == before


@pytest.mark.parametrize(("fields", "problems"), [
    ({"service_code": "unicorns", "description": "a unicorn"},
     ["service_code 'unicorns' is not a service of this city; see services.json."]),
    ({"description": "pothole"}, ["service_code: Field required."]),
    ({"service_code": "pothole"}, ["Give a description (or attribute values) of the problem."]),
    ({"service_code": "pothole", "description": "   ", "attribute[size]": " "},
     ["Give a description (or attribute values) of the problem."]),
    ({"service_code": "pothole", "description": "x" * (MAX_DESCRIPTION_CHARS + 1)},
     [f"description: String should have at most {MAX_DESCRIPTION_CHARS} characters."]),
    ({"service_code": "pothole", "description": "x" * MAX_DESCRIPTION_CHARS, "attribute[size]": "big"},
     [f"The description and attributes are {MAX_DESCRIPTION_CHARS + 10} characters long; "
      f"the limit is {MAX_DESCRIPTION_CHARS}."]),
    ({"service_code": "pothole", "description": "pothole", "lat": "42.1"}, ["Give lat and long together."]),
    ({"service_code": "pothole", "description": "pothole", "lat": "91", "long": "east"},
     ["lat: Input should be less than or equal to 90.",
      "long: Input should be a valid number, unable to parse string as a number."]),
    ({"service_code": "pothole", "description": "pothole", "email": "not-an-address"},
     ["email: not an e-mail address."]),
    ({"service_code": "pothole", "description": "pothole", "media_url": "https://example.org/p.jpg"},
     ["media_url: not a field this desk accepts."]),
    ({"service_code": "unicorns", "lat": "1"},
     ["service_code 'unicorns' is not a service of this city; see services.json.",
      "Give a description (or attribute values) of the problem.", "Give lat and long together."]),
])
def test_bad_fields_get_a_clear_400_and_open_nothing(client, cases, fields, problems):
    before = len(all_cases(cases))
    refused(file(client, **fields), 400, *problems)
    assert len(all_cases(cases)) == before


def test_a_body_that_cannot_be_read_gets_a_clear_400(client, cases):
    before = len(all_cases(cases))
    url = "/open311/v2/requests.json"
    refused(client.post(url, content=b"{broken", headers={"Content-Type": "application/json"}), 400,
            "The body is not valid JSON.")
    refused(client.post(url, json=["pothole"]), 400, "The JSON body must be an object of fields.")
    refused(client.post(url, content=b"pothole", headers={"Content-Type": "text/plain"}), 400,
            "Send the request form-encoded (application/x-www-form-urlencoded), as GeoReport v2 says, or as JSON.")
    refused(client.post(url, content=f"api_key={KEY}&service_code=pothole&service_code=noise&description=x",
                        headers={"Content-Type": "application/x-www-form-urlencoded"}), 400,
            "The field 'service_code' is given twice.")
    refused(client.post("/open311/v2/requests.csv", data={"api_key": KEY, "service_code": "pothole",
                                                          "description": "pothole"}), 400,
            "Ask for requests.json or requests.xml (the format 'csv' is not supported).")
    assert len(all_cases(cases)) == before


# reading requests


@pytest.fixture(scope="module")
def seeded(desk_settings) -> dict[str, Case]:
    """Cases opened at known times through a second desk on the same database."""
    now = datetime.now(UTC).replace(microsecond=0)
    moments = {"old": now - timedelta(days=91), "recent": now - timedelta(days=89),
               "march-pothole": datetime(2025, 3, 3, 14, 0, tzinfo=UTC),
               "march-noise": datetime(2025, 3, 5, 14, 0, tzinfo=UTC),
               "march-closed": datetime(2025, 3, 7, 14, 0, tzinfo=UTC)}
    clock = {"now": now}
    engine = create_db_engine(desk_settings.resolved_database_url)
    sessions = session_factory(engine)
    desk = CaseDesk(sessions, DIRECTORY, CITY, transcript=writer_for(sessions, clock=lambda: clock["now"]),
                    clock=lambda: clock["now"])
    opened = {}
    for name, moment in moments.items():
        clock["now"] = moment
        code = "noise" if name == "march-noise" else "pothole"
        category = DIRECTORY.category(code)
        opened[name] = desk.open_case(description=f"{name} case", channel="web", conversation_id=f"web-{name}",
                                      sla=SLA.SIMPLE, assignment=route_case(directory=DIRECTORY, category=category),
                                      category=category, address="5 Oak Ave", contact=CONTACT)
    clock["now"] = moments["march-closed"] + timedelta(hours=2)
    opened["march-closed"] = desk.close(service_request_id=opened["march-closed"].service_request_id,
                                        actor=Actor("rosa", role="staff", department="public-works"),
                                        note="Filled on Tuesday.")
    engine.dispose()
    return opened


def ids(response) -> list[str]:
    assert response.status_code == 200
    return [r["service_request_id"] for r in response.json()]


def test_one_request_has_every_field_and_no_personal_data(client, seeded):
    case = seeded["march-closed"]
    response = client.get(f"/open311/v2/requests/{case.service_request_id.lower()}.json")
    assert response.status_code == 200
    assert response.json() == [{
        "service_request_id": case.service_request_id, "status": "closed", "status_notes": "Filled on Tuesday.",
        "service_name": "Pothole or damaged road", "service_code": "pothole", "description": "march-closed case",
        "agency_responsible": "Public Works", "service_notice": "Closed by Public Works.",
        "requested_datetime": "2025-03-07T09:00:00-05:00", "updated_datetime": "2025-03-07T11:00:00-05:00",
        "expected_datetime": "2025-03-07T12:00:00-05:00", "address": "Oak Ave", "address_id": None,
        "zipcode": None, "lat": None, "long": None, "media_url": None}]


def test_an_open_overdue_request_says_so(client, seeded):
    case = seeded["march-pothole"]
    [body] = client.get(f"/open311/v2/requests/{case.service_request_id}.json").json()
    assert (body["status"], body["status_notes"]) == ("open", None)
    assert body["service_notice"] == "Public Works has it; the answer was due by Mon 3 Mar, 12:00 PM."


def test_an_unknown_request_is_a_404_in_open311_form(client):
    refused(client.get("/open311/v2/requests/CD-2026-999999.json"), 404,
            "There is no service request CD-2026-999999.")


def test_the_list_defaults_to_the_last_90_days_newest_first(client, seeded):
    listed = ids(client.get("/open311/v2/requests.json"))
    assert seeded["recent"].service_request_id in listed
    assert seeded["old"].service_request_id not in listed
    assert seeded["march-pothole"].service_request_id not in listed
    bodies = client.get("/open311/v2/requests.json").json()
    requested = [datetime.fromisoformat(b["requested_datetime"]) for b in bodies]
    assert requested == sorted(requested, reverse=True)


def test_no_get_ever_returns_personal_contact_data(client, seeded):
    texts = [client.get("/open311/v2/requests.json").text,
             client.get("/open311/v2/requests.json", params={"start_date": "2000-01-01T00:00:00Z"}).text,
             client.get(f"/open311/v2/requests/{seeded['recent'].service_request_id}.json").text]
    for field in ("email", "first_name", "last_name", "phone", "device_id", "account_id"):
        assert all(f'"{field}"' not in text for text in texts)
    for value in CONTACT.values():
        assert all(value not in text for text in texts)
    for body in client.get("/open311/v2/requests.json").json():
        assert set(body) == FIELDS


# what the public reads of a citizen's words: redacted as the transcripts are, the place at block level

REPORT = ("There's a deep pothole outside 12 Elm St. Call me on 555-0100 or jane.roe@example.org. "
          "My name is Jane Roe")
NOTES = "Called Mrs. Roe on 555-0100 (jane.roe@example.org): a crew comes to 12 Elm St on Tuesday."
PERSONAL = ("555-0100", "jane.roe", "Jane", "Roe", "12 Elm", "40.712776", "-74.005974")


@pytest.fixture(scope="module")
def reported(client, desk_settings, cases) -> Case:
    """A case opened from a chat message the way the assistant opens one, answered by staff."""
    internal = {"Authorization": f"Bearer {desk_settings.resolved_internal_token}"}
    decided = client.post("/api/messages", headers=internal, json={
        "text": REPORT, "conversation_id": "web-jane", "intent": "report_problem", "lat": 40.712776,
        "long": -74.005974})
    assert decided.status_code == 200, decided.text
    assert decided.json()["route"] == "case"
    number = decided.json()["case"]["service_request_id"]
    return cases.reply(service_request_id=number, actor=Actor("rosa", role="staff", department="public-works"),
                       text=NOTES)


def test_the_public_reads_a_case_redacted_as_the_transcripts_and_placed_at_block_level(client, reported):
    one = client.get(f"/open311/v2/requests/{reported.service_request_id}.json")
    listed = client.get("/open311/v2/requests.json")
    [body] = one.json()
    assert [b for b in listed.json() if b["service_request_id"] == reported.service_request_id] == [body]
    assert body["description"] == ("There's a deep pothole outside [address] Call me on [phone] or [email]. "
                                   "My name is [name]")
    assert body["status_notes"] == "Called Mrs. [name] on [phone] ([email]): a crew comes to [address] on Tuesday."
    assert (body["address"], body["lat"], body["long"]) == ("Elm St.", 40.713, -74.006)
    for value in PERSONAL:
        assert value not in one.text and value not in listed.text, value


def test_staff_still_read_the_case_whole(client, reported, cases):
    stored = cases.get(reported.service_request_id)
    assert (stored.description, stored.status_notes, stored.address, stored.lat, stored.long) == (
        REPORT, NOTES, "12 Elm St.", 40.712776, -74.005974)
    client.app.state.staff.add(username="rosa311", display_name="Rosa Martinez", password="a long enough password",
                               role="staff", department="public-works")
    rosa = TestClient(client.app)
    login = rosa.get("/inbox/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    assert rosa.post("/inbox/login", data={"username": "rosa311", "password": "a long enough password",
                                           "next": "/inbox", "csrf_token": csrf}).status_code == 200
    page = rosa.get(f"/inbox/cases/{reported.service_request_id}")
    assert page.status_code == 200
    for value in ("555-0100", "jane.roe@example.org", "Jane Roe", "12 Elm St."):
        assert value in page.text, value


def test_a_case_number_asked_from_another_conversation_gets_the_public_notes(client, desk_settings, reported):
    internal = {"Authorization": f"Bearer {desk_settings.resolved_internal_token}"}

    def notes(conversation_id: str) -> str:
        response = client.get("/api/cases/status", headers=internal,
                              params={"conversation_id": conversation_id,
                                      "text": f"status of {reported.service_request_id}?"})
        assert response.status_code == 200
        [summary] = response.json()
        return summary["status_notes"]

    assert notes("web-jane") == NOTES
    assert notes("web-a-stranger") == "Called Mrs. [name] on [phone] ([email]): a crew comes to [address] on Tuesday."


def test_a_filed_address_and_location_are_published_at_block_level(client, cases):
    response = file(client, service_code="pothole", description="Pothole by the bus stop",
                    address_string="Flat 3, 12 Elm St, Springfield", lat="42.36014", long="-71.05893", **CONTACT)
    assert response.status_code == 201
    [filed] = response.json()
    assert set(filed) == {"service_request_id", "service_notice", "account_id"}
    assert all(value not in response.text for value in CONTACT.values())
    [body] = client.get(f"/open311/v2/requests/{filed['service_request_id']}.json").json()
    assert (body["description"], body["address"], body["lat"], body["long"]) == (
        "Pothole by the bus stop", "Elm St, Springfield", 42.36, -71.059)
    stored = cases.get(filed["service_request_id"])
    assert (stored.address, stored.lat, stored.long) == ("Flat 3, 12 Elm St, Springfield", 42.36014, -71.05893)


@pytest.mark.parametrize(("address", "public"), [
    ("5 Oak Ave", "Oak Ave"), ("221B Baker Street, Apt 4", "Baker Street"), ("12-14 Elm St #5", "Elm St"),
    ("1200 north maple avenue", "north maple avenue"), ("Main St and 5th Ave", "Main St and 5th Ave"),
    ("the 100 block of Oak Street", "the 100 block of Oak Street"),
    ("Highway 101 near exit 5", "Highway 101 near exit 5"),
    ("Springfield, IL 62704", "Springfield, IL 62704"), ("PO Box 77", None), ("세종대로 110", "세종대로"),
    ("Jane Roe, 12 Elm St, 555-0100", "[name], Elm St, [phone]"), ("I live at 42 Maple", "I live at Maple")])
def test_an_address_at_block_level_keeps_streets_and_intersections(address, public):
    assert public_address(address, REDACTOR) == public


MARCH = {"start_date": "2025-03-01T00:00:00-05:00", "end_date": "2025-03-31T23:59:59-04:00"}


def test_the_list_filters_by_dates_code_and_status(client, seeded):
    number = {name: case.service_request_id for name, case in seeded.items()}
    assert ids(client.get("/open311/v2/requests.json", params=MARCH)) == [
        number["march-closed"], number["march-noise"], number["march-pothole"]]
    # the bounds are inclusive, on requested_datetime
    assert ids(client.get("/open311/v2/requests.json", params={"start_date": "2025-03-05T14:00:00Z",
                                                               "end_date": "2025-03-07T14:00:00Z"})) == [
        number["march-closed"], number["march-noise"]]
    # an unescaped '+' of an offset arrives as a space, and is read as the '+' it was
    assert ids(client.get("/open311/v2/requests.json?start_date=2025-03-05T15:00:00+01:00"
                          "&end_date=2025-03-07T15:00:00+01:00")) == [number["march-closed"], number["march-noise"]]
    assert ids(client.get("/open311/v2/requests.json", params={**MARCH, "service_code": "noise"})) == [
        number["march-noise"]]
    assert ids(client.get("/open311/v2/requests.json", params={**MARCH, "service_code": "noise, pothole"})) == [
        number["march-closed"], number["march-noise"], number["march-pothole"]]
    assert ids(client.get("/open311/v2/requests.json", params={**MARCH, "status": "closed"})) == [
        number["march-closed"]]
    assert ids(client.get("/open311/v2/requests.json", params={**MARCH, "status": "open"})) == [
        number["march-noise"], number["march-pothole"]]
    # only an end date: the 90 days before it
    assert ids(client.get("/open311/v2/requests.json", params={"end_date": "2025-03-04T00:00:00Z"})) == [
        number["march-pothole"]]


def test_service_request_ids_override_every_other_filter(client, seeded):
    wanted = f"{seeded['old'].service_request_id}, {seeded['march-noise'].service_request_id.lower()},CD-2026-999999"
    listed = ids(client.get("/open311/v2/requests.json",
                            params={"service_request_id": wanted, "status": "closed", "service_code": "pothole"}))
    assert listed == [seeded["old"].service_request_id, seeded["march-noise"].service_request_id]


def test_bad_filters_get_a_clear_400_naming_each_problem(client):
    refused(client.get("/open311/v2/requests.json",
                       params={"status": "open,pending", "service_code": "pothole,unicorns",
                               "start_date": "2025-03-01", "end_date": "yesterday"}), 400,
            "service_code 'unicorns' is not a service of this city; see services.json.",
            "status 'pending' is not one of: open, closed.",
            "start_date '2025-03-01' is not an ISO 8601 date and time with a time zone, e.g. 2026-11-01T00:00:00Z "
            "or 2026-11-01T00:00:00-05:00.",
            "end_date 'yesterday' is not an ISO 8601 date and time with a time zone, e.g. 2026-11-01T00:00:00Z "
            "or 2026-11-01T00:00:00-05:00.")
    refused(client.get("/open311/v2/requests.json",
                       params={"start_date": "2025-03-02T00:00:00Z", "end_date": "2025-03-01T00:00:00Z"}), 400,
            "start_date is after end_date.")


# service definitions


def test_a_service_definition_lists_its_attributes(client):
    response = client.get("/open311/v2/services/streetlight.json")
    assert response.status_code == 200
    assert response.json() == {"service_code": "streetlight", "attributes": [
        {"variable": True, "code": "pole", "datatype": "string", "required": False, "datatype_description": "",
         "order": 1, "description": "The number on the pole, if you can read it", "values": []},
        {"variable": True, "code": "state", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "", "order": 2, "description": "What is wrong with the light?",
         "values": [{"key": "out", "name": "It is out"}, {"key": "flickering", "name": "It flickers"},
                    {"key": "day", "name": "It is on during the day"}]}]}
    assert client.get("/open311/v2/services/pothole.json").json() == {"service_code": "pothole", "attributes": []}


def test_a_service_definition_in_xml_has_georeport_v2s_elements(client):
    response = client.get("/open311/v2/services/streetlight.xml")
    assert (response.status_code, response.headers["content-type"]) == (200, "text/xml; charset=utf-8")
    root = ElementTree.fromstring(response.content)
    assert (root.tag, root.findtext("service_code")) == ("service_definition", "streetlight")
    attributes = root.findall("attributes/attribute")
    assert [(a.findtext("code"), a.findtext("datatype"), a.findtext("required"), a.findtext("variable"),
             a.findtext("order")) for a in attributes] == [("pole", "string", "false", "true", "1"),
                                                           ("state", "singlevaluelist", "false", "true", "2")]
    assert [(v.findtext("key"), v.findtext("name")) for v in attributes[1].findall("values/value")] == [
        ("out", "It is out"), ("flickering", "It flickers"), ("day", "It is on during the day")]


def test_an_unknown_service_is_a_404_in_open311_form_in_json_and_xml(client):
    refused(client.get("/open311/v2/services/unicorns.json"), 404, "There is no service 'unicorns'; see services.json.")
    response = client.get("/open311/v2/services/unicorns.xml")
    assert response.status_code == 404
    [problem] = ElementTree.fromstring(response.content).findall("error")
    assert (problem.findtext("code"), problem.findtext("description")) == (
        "404", "There is no service 'unicorns'; see services.xml.")


def test_the_services_and_requests_lists_are_offered_in_xml_too(client, seeded):
    services = ElementTree.fromstring(client.get("/open311/v2/services.xml").content)
    assert [s.findtext("service_code") for s in services.findall("service")] == [
        c.code for c in DIRECTORY.categories]
    case = seeded["march-closed"]
    response = client.get(f"/open311/v2/requests/{case.service_request_id}.xml")
    [request] = ElementTree.fromstring(response.content).findall("request")
    assert (request.findtext("service_request_id"), request.findtext("status"), request.findtext("status_notes"),
            request.findtext("requested_datetime")) == (case.service_request_id, "closed", "Filled on Tuesday.",
                                                        "2025-03-07T09:00:00-05:00")


def test_a_request_is_filed_in_xml_as_fixmystreet_files_it(client, cases):
    response = client.post("/open311/v2/requests.xml", data={
        "api_key": KEY, "service_code": "streetlight", "description": "Light out by the bus stop",
        "attribute[state]": "out", "lat": "42.3601", "long": "-71.0589"})
    assert (response.status_code, response.headers["content-type"]) == (201, "text/xml; charset=utf-8")
    [filed] = ElementTree.fromstring(response.content).findall("request")
    case = cases.get(filed.findtext("service_request_id"))
    assert (case.service_code, case.agency_responsible, case.description) == (
        "streetlight", "public-works", "Light out by the bus stop\nstate: out")
    assert filed.findtext("service_notice").startswith("Public Works has it and will answer by ")
    forged = client.post("/open311/v2/requests.xml", data={"api_key": "forged", "service_code": "pothole",
                                                           "description": "x"})
    assert forged.status_code == 403
    assert ElementTree.fromstring(forged.content).findtext("error/description") == "The api_key is not valid."


def test_a_filed_attribute_must_be_one_of_its_choices(client, cases):
    before = len(all_cases(cases))
    refused(file(client, service_code="streetlight", description="light", **{"attribute[state]": "exploded"}), 400,
            "attribute[state] 'exploded' is not one of: out, flickering, day.")
    assert len(all_cases(cases)) == before


# service request updates (FixMyStreet's Open311 extension)


@pytest.fixture(scope="module")
def answered(desk_settings) -> dict[str, object]:
    """A request answered in April 2025 (a claim, an answer with a phone number, a question, a closing) by a second
    desk on the same database, and the ids of its public events."""
    clock = {"now": datetime(2025, 4, 2, 14, 0, tzinfo=UTC)}
    engine = create_db_engine(desk_settings.resolved_database_url)
    sessions = session_factory(engine)
    desk = CaseDesk(sessions, DIRECTORY, CITY, transcript=writer_for(sessions, clock=lambda: clock["now"]),
                    clock=lambda: clock["now"])
    category = DIRECTORY.category("pothole")
    case = desk.open_case(description="pothole by the school", channel="web", conversation_id="web-april",
                          sla=SLA.SIMPLE, assignment=route_case(directory=DIRECTORY, category=category),
                          category=category)
    rosa = Actor("rosa", role="staff", department="public-works")
    steps = [(timedelta(minutes=10), lambda n: desk.claim(service_request_id=n, actor=rosa)),
             (timedelta(hours=1), lambda n: desk.ask_details(service_request_id=n, actor=rosa,
                                                             text="Which side of the school?")),
             (timedelta(hours=2), lambda n: desk.reply(service_request_id=n, actor=rosa,
                                                       text="A crew comes Friday; questions: 617-555-0100")),
             (timedelta(days=3), lambda n: desk.close(service_request_id=n, actor=rosa, note="Filled."))]
    for delay, step in steps:
        clock["now"] += delay
        case = step(case.service_request_id)
    engine.dispose()
    return {"case": case, "events": {e.kind: e.id for e in case.events}}


APRIL = {"start_date": "2025-04-01T00:00:00Z", "end_date": "2025-04-30T00:00:00Z"}


def test_request_updates_are_the_public_answers_questions_and_closings_redacted(client, answered):
    number, events = answered["case"].service_request_id, answered["events"]
    response = client.get("/open311/v2/servicerequestupdates.json", params={**APRIL, "api_key": "anything"})
    assert response.status_code == 200
    assert response.json() == [
        {"update_id": str(events["asked_details"]), "service_request_id": number, "status": "open",
         "updated_datetime": "2025-04-02T11:10:00-04:00", "description": "Which side of the school?", "media_url": ""},
        {"update_id": str(events["replied"]), "service_request_id": number, "status": "open",
         "updated_datetime": "2025-04-02T13:10:00-04:00", "description": "A crew comes Friday; questions: [phone]",
         "media_url": ""},
        {"update_id": str(events["closed"]), "service_request_id": number, "status": "closed",
         "updated_datetime": "2025-04-05T13:10:00-04:00", "description": "Filled.", "media_url": ""}]
    # the bounds are on when the update happened
    narrow = client.get("/open311/v2/servicerequestupdates.json",
                        params={"start_date": "2025-04-02T17:00:00Z", "end_date": "2025-04-03T00:00:00Z"})
    assert [u["update_id"] for u in narrow.json()] == [str(events["replied"])]


def test_request_updates_in_xml_as_fixmystreet_reads_them(client, answered):
    response = client.get("/open311/v2/servicerequestupdates.xml", params=APRIL)
    assert (response.status_code, response.headers["content-type"]) == (200, "text/xml; charset=utf-8")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "service_request_updates"
    updates = [{child.tag: child.text or "" for child in update} for update in root.findall("request_update")]
    assert [(u["update_id"], u["status"], u["description"], u["media_url"]) for u in updates] == [
        (str(answered["events"]["asked_details"]), "open", "Which side of the school?", ""),
        (str(answered["events"]["replied"]), "open", "A crew comes Friday; questions: [phone]", ""),
        (str(answered["events"]["closed"]), "closed", "Filled.", "")]
    assert {u["service_request_id"] for u in updates} == {answered["case"].service_request_id}
    assert updates[0]["updated_datetime"] == "2025-04-02T11:10:00-04:00"


def test_bad_update_dates_get_a_clear_400(client):
    refused(client.get("/open311/v2/servicerequestupdates.json",
                       params={"start_date": "2025-04-02T00:00:00Z", "end_date": "2025-04-01T00:00:00Z"}), 400,
            "start_date is after end_date.")
    response = client.get("/open311/v2/servicerequestupdates.xml", params={"start_date": "April"})
    assert response.status_code == 400
    assert ElementTree.fromstring(response.content).findtext("error/code") == "400"


def test_a_filer_with_an_e_mail_address_gets_the_answer_by_e_mail(client, cases):
    response = file(client, service_code="pothole", description="Pothole at the corner of Elm and 3rd",
                    email="ann.filer@example.org")
    [filed] = response.json()
    number = filed["service_request_id"]
    answer = "We filled it this morning. Thank you for reporting it!"
    cases.reply(service_request_id=number, actor=Actor("rosa", role="staff", department="public-works"), text=answer)
    with smtp_server() as smtp:
        asyncio.run(mail_sender(cases.sessions, SmtpServer("127.0.0.1", smtp.port),
                                sender="desk@alderbrook.example").run_once())
        [mail] = smtp.mailbox.to("ann.filer@example.org")
    assert mail.subject == f"Your request {number} to Alderbrook: an answer"
    assert answer in mail.text and number in mail.text
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    assert [(u["service_request_id"], u["description"]) for u in updates if u["service_request_id"] == number] == [
        (number, answer)]
