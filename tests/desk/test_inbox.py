"""The staff inbox over HTTP: login, sessions, CSRF, department isolation, every action and its refusals."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from database import upgrade
from desk.app import create_app
from desk.web.auth import FORM_REJECTED, LOGIN_FAILED, SESSION_COOKIE
from handoff.directory import SLA
from handoff.models import Case
from handoff.service import SYSTEM, CaseDesk
from outbox.store import waiting_for
from settings import Settings
from tests.desk.inbox_support import CSRF, PASSWORD, add_users, now_minus
from tests.handoff.conftest import desk_at, open_case
from tests.support import free_port

ROWS = re.compile(r'<tr class="(case[^"]*)" data-case="([^"]+)" data-department="([^"]+)"')
PUBLIC_WORKS_HEAD = "marcus.oyelaran@alderbrook.example"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("inbox"), rasa_port=free_port())


@pytest.fixture(scope="module")
def app(settings):
    application = create_app(settings)
    with TestClient(application):
        add_users(application.state.staff)
        yield application


@pytest.fixture
def cases(app) -> CaseDesk:
    return app.state.cases


def token(response) -> str:
    return CSRF.search(response.text).group(1)


def anonymous(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def logged_in(app, username: str) -> TestClient:
    client = anonymous(app)
    response = client.post("/inbox/login", data={"username": username, "password": PASSWORD, "next": "/inbox",
                                                  "csrf_token": token(client.get("/inbox/login"))})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/inbox"
    return client


def rows(response) -> list[tuple[str, str, str]]:
    """(css class, case number, department) of every row of the inbox table."""
    return ROWS.findall(response.text)


def element(response, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', response.text, re.DOTALL)
    assert match, f"no element #{element_id} on the page"
    return html.unescape(match.group(1))


def pothole(cases: CaseDesk, conversation_id: str = "web-citizen") -> Case:
    return open_case(cases, category="pothole", text="Huge pothole outside 14 Elm Street", address="14 Elm Street",
                     conversation_id=conversation_id)


def history(cases: CaseDesk, case: Case) -> list[tuple[str, str, str | None]]:
    return [(e.kind, e.actor, e.text) for e in cases.get(case.service_request_id).events]


def outbox(cases: CaseDesk, conversation_id: str) -> list[str]:
    return [m.text for m in waiting_for(cases.sessions, channel="web", conversation_id=conversation_id)]


def post(client: TestClient, case: Case, path: str, **fields: str):
    """One action's form, sent from the case page with the page's CSRF token."""
    page = client.get(f"/inbox/cases/{case.service_request_id}")
    return client.post(f"/inbox/cases/{case.service_request_id}/{path}",
                       data={"csrf_token": token(page), **fields})


# --- sessions and login ---------------------------------------------------------------------------------

def test_the_session_cookie_is_signed_httponly_samesite_lax_and_shared_by_the_inbox_and_the_editor(app, settings):
    response = anonymous(app).get("/inbox/login")
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "; path=/;" in cookie
    assert "; httponly; samesite=lax" in cookie
    secret_file = settings.data_dir / "secret_key"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert len(secret_file.read_text().strip()) >= 40


def test_without_a_session_the_inbox_sends_the_browser_to_the_login_page(app, cases):
    case = pothole(cases)
    client = anonymous(app)
    assert client.get("/inbox").headers["location"] == "/inbox/login?next=/inbox"
    response = client.get(f"/inbox/cases/{case.service_request_id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/inbox/login?next=/inbox/cases/{case.service_request_id}"
    claim = client.post(f"/inbox/cases/{case.service_request_id}/claim", data={"csrf_token": "x"})
    assert claim.status_code == 303
    assert claim.headers["location"] == "/inbox/login?next=/inbox"
    assert history(cases, case) == [("opened", SYSTEM.username, None)]


def test_a_wrong_password_and_an_unknown_user_get_the_same_error_and_no_session(app):
    client = anonymous(app)
    wrong = client.post("/inbox/login", data={"username": "rosa", "password": "not her password",
                                              "csrf_token": token(client.get("/inbox/login"))})
    unknown = client.post("/inbox/login", data={"username": "nobody", "password": PASSWORD,
                                                "csrf_token": token(wrong)})
    for response, username in ((wrong, "rosa"), (unknown, "nobody")):
        assert response.status_code == 401
        assert element(response, "login-error") == LOGIN_FAILED
        assert f'id="username" name="username" value="{username}"' in response.text
    assert client.get("/inbox").status_code == 303


def test_login_goes_back_to_the_page_asked_for_but_never_outside_the_inbox(app):
    for asked, landing in (("/inbox/cases/CD-2026-000001", "/inbox/cases/CD-2026-000001"),
                           ("https://evil.example/inbox", "/inbox"), ("//evil.example/inbox", "/inbox"),
                           ("/inbox//evil.example", "/inbox"), ("/docs", "/inbox")):
        client = anonymous(app)
        response = client.post("/inbox/login", data={"username": "rosa", "password": PASSWORD, "next": asked,
                                                      "csrf_token": token(client.get("/inbox/login"))})
        assert (response.status_code, response.headers["location"]) == (303, landing)


def test_logout_ends_the_session(app):
    client = logged_in(app, "rosa")
    page = client.get("/inbox")
    assert client.post("/inbox/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/inbox").status_code == 200
    response = client.post("/inbox/logout", data={"csrf_token": token(page)})
    assert (response.status_code, response.headers["location"]) == (303, "/inbox/login?logged_out=1")
    assert client.get("/inbox").status_code == 303
    assert "You are logged out." in client.get("/inbox/login?logged_out=1").text


def test_a_session_survives_a_restart_of_the_desk(app, settings):
    client = logged_in(app, "rosa")
    with TestClient(create_app(settings), follow_redirects=False) as restarted:
        restarted.cookies = client.cookies
        response = restarted.get("/inbox")
        assert response.status_code == 200
        assert "Rosa Martinez · staff · public-works" in element(response, "who")


def test_an_editor_has_no_inbox(app):
    response = logged_in(app, "eddie").get("/inbox")
    assert response.status_code == 403
    assert element(response, "error-message") == ("The inbox is for department staff and supervisors; "
                                                  "eddie is an editor.")


# --- CSRF -----------------------------------------------------------------------------------------------

def test_a_form_without_this_sessions_csrf_token_is_rejected_and_changes_nothing(app, cases):
    case = pothole(cases, "web-csrf")
    rosa, wes = logged_in(app, "rosa"), logged_in(app, "wes")
    someone_elses = token(wes.get("/inbox"))
    path = f"/inbox/cases/{case.service_request_id}/reply"
    for data in ({"text": "forged"}, {"text": "forged", "csrf_token": ""},
                 {"text": "forged", "csrf_token": someone_elses}):
        response = rosa.post(path, data=data)
        assert response.status_code == 403
        assert element(response, "error-message") == FORM_REJECTED
    assert history(cases, case) == [("opened", SYSTEM.username, None)]
    assert outbox(cases, "web-csrf") == []
    login = anonymous(app).post("/inbox/login", data={"username": "rosa", "password": PASSWORD})
    assert login.status_code == 403


# --- what each user sees ---------------------------------------------------------------------------------

def test_staff_see_only_their_departments_open_cases_oldest_deadline_first(app, cases, settings):
    policy = open_case(cases, category=None, department="public-works", sla=SLA.POLICY,
                       text="Please add bike lanes on Main St", conversation_id="web-order")
    simple = open_case(cases, category="streetlight", text="Street light out on Oak Ave", conversation_id="web-order")
    review = open_case(cases, category=None, department="public-works", sla=SLA.REVIEW,
                       text="Who decides when my street gets resurfaced?", conversation_id="web-order")
    overdue = open_case(desk_at(settings, now_minus(cases, hours=5, minutes=10)), category="sidewalk",
                        text="Broken sidewalk slab", conversation_id="web-order")
    closed = open_case(cases, category="pothole", text="pothole, fixed already", conversation_id="web-order")
    cases.close(service_request_id=closed.service_request_id, actor=SYSTEM)
    waste = open_case(cases, category="missed-pickup", text="My trash was not picked up", conversation_id="web-w")

    response = logged_in(app, "rosa").get("/inbox")
    assert response.status_code == 200
    shown = rows(response)
    assert {department for _, _, department in shown} == {"public-works"}
    numbers = [number for _, number, _ in shown]
    ours = [c.service_request_id for c in (overdue, simple, review, policy)]
    assert [n for n in numbers if n in ours] == ours
    assert closed.service_request_id not in numbers and waste.service_request_id not in numbers
    deadlines = {c.id: c.expected_datetime for c in cases.inbox(SYSTEM)}
    ordered = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert ordered == sorted(ordered, key=lambda case_id: (deadlines[case_id], case_id))
    classes = {number: css for css, number, _ in shown}
    assert classes[overdue.service_request_id] == "case overdue"
    assert classes[simple.service_request_id] == "case"
    assert "overdue by 2 h 10 min" in response.text
    assert "Open cases · Public Works" in response.text


def test_supervisors_see_every_department_and_can_narrow_to_one(app, cases):
    pothole(cases, "web-sup")
    waste = open_case(cases, category="missed-pickup", text="Recycling skipped again", conversation_id="web-sup")
    sam = logged_in(app, "sam")
    everything = sam.get("/inbox")
    assert everything.status_code == 200
    assert {"public-works", "waste"} <= {department for _, _, department in rows(everything)}
    only_waste = sam.get("/inbox?department=waste")
    assert only_waste.status_code == 200
    assert {department for _, _, department in rows(only_waste)} == {"waste"}
    assert waste.service_request_id in [number for _, number, _ in rows(only_waste)]
    unknown = sam.get("/inbox?department=roads")
    assert unknown.status_code == 400
    assert element(unknown, "inbox-error") == "There is no department 'roads'; showing all departments."
    assert rows(unknown) == rows(everything)
    # a staff member's department filter is ignored: they only ever see their own
    assert {d for _, _, d in rows(logged_in(app, "rosa").get("/inbox?department=waste"))} == {"public-works"}


def test_another_departments_case_is_not_found_and_cannot_be_changed(app, cases):
    case = pothole(cases, "web-isolation")
    wes = logged_in(app, "wes")
    page = wes.get(f"/inbox/cases/{case.service_request_id}")
    assert page.status_code == 404
    assert element(page, "error-message") == f"There is no case {case.service_request_id} in your inbox."
    assert "Huge pothole" not in page.text
    missing = wes.get("/inbox/cases/CD-2026-999999")
    assert missing.status_code == 404
    assert element(missing, "error-message") == "There is no case CD-2026-999999 in your inbox."
    csrf = token(page)
    for action, data in (("claim", {}), ("reply", {"text": "hi"}), ("ask", {"text": "where?"}),
                         ("reassign", {"department": "waste", "reason": "mine now"}), ("close", {"note": ""})):
        response = wes.post(f"/inbox/cases/{case.service_request_id}/{action}", data={"csrf_token": csrf, **data})
        assert response.status_code == 404, action
    assert history(cases, case) == [("opened", SYSTEM.username, None)]
    assert outbox(cases, "web-isolation") == []
    assert logged_in(app, "sam").get(f"/inbox/cases/{case.service_request_id}").status_code == 200


def test_what_a_citizen_wrote_is_shown_as_text_never_as_markup(app, cases):
    case = open_case(cases, category="pothole", text='pothole <script>alert("x")</script> on <b>Elm</b> St',
                     conversation_id="web-markup")
    rosa = logged_in(app, "rosa")
    for page in (rosa.get("/inbox"), rosa.get(f"/inbox/cases/{case.service_request_id}")):
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<b>Elm</b>" not in page.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


# --- actions ---------------------------------------------------------------------------------------------

def test_claim_then_reply_from_a_template_reaches_the_citizens_conversation(app, cases):
    case = pothole(cases, "web-reply")
    rosa = logged_in(app, "rosa")
    claimed = post(rosa, case, "claim")
    assert (claimed.status_code, claimed.headers["location"]) == (303, f"/inbox/cases/{case.service_request_id}")
    page = rosa.get(claimed.headers["location"])
    assert element(page, "flash") == "You have claimed this case."
    assert element(page, "case-assignee") == "rosa"

    prefilled = rosa.post(f"/inbox/cases/{case.service_request_id}/reply",
                          data={"csrf_token": token(page), "action": "template", "template": "0", "text": ""})
    assert prefilled.status_code == 200
    text = element(prefilled, "reply-text")
    assert text == ("Thank you for reporting the road damage at 14 Elm Street. A Public Works crew has been "
                    "scheduled to repair it; most potholes are filled within 5 working days. "
                    f"Case {case.service_request_id}.")
    assert history(cases, case) == [("opened", SYSTEM.username, None), ("claimed", "rosa", None)]

    sent = rosa.post(f"/inbox/cases/{case.service_request_id}/reply",
                     data={"csrf_token": token(page), "action": "send", "text": text})
    assert sent.status_code == 303
    stored = cases.get(case.service_request_id)
    assert (stored.state, stored.status, stored.status_notes, stored.assignee) == ("answered", "open", text, "rosa")
    assert history(cases, case)[-1] == ("replied", "rosa", text)
    assert outbox(cases, "web-reply") == [f"{case.service_request_id}: {text}"]
    shown = rosa.get(sent.headers["location"])
    assert element(shown, "flash") == "Your reply is on its way to the citizen."
    assert "Replied to the citizen</strong> by rosa" in shown.text


def test_picking_no_template_says_so_and_keeps_the_text(app, cases):
    case = pothole(cases, "web-notemplate")
    response = post(logged_in(app, "rosa"), case, "reply", action="template", template="", text="my draft")
    assert response.status_code == 400
    assert element(response, "reply-error") == "Pick a template from the list first."
    assert element(response, "reply-text") == "my draft"


def test_a_20000_character_reply_is_refused_clearly_and_nothing_typed_is_lost(app, cases):
    case = pothole(cases, "web-long")
    text = "The crew will come. " * 1000
    response = post(logged_in(app, "rosa"), case, "reply", text=text)
    assert response.status_code == 400
    assert element(response, "reply-error") == "The message is 19999 characters long; the limit is 4000."
    assert element(response, "reply-text") == text
    assert history(cases, case) == [("opened", SYSTEM.username, None)]
    assert outbox(cases, "web-long") == []


def test_an_empty_reply_is_refused_clearly(app, cases):
    case = pothole(cases, "web-empty")
    response = post(logged_in(app, "rosa"), case, "reply", text="   ")
    assert response.status_code == 400
    assert element(response, "reply-error") == "The message is empty."


def test_a_reply_to_a_closed_case_is_refused_clearly_and_the_text_is_kept(app, cases):
    case = pothole(cases, "web-closed")
    rosa = logged_in(app, "rosa")
    page = rosa.get(f"/inbox/cases/{case.service_request_id}")
    cases.close(service_request_id=case.service_request_id, actor=SYSTEM, note="fixed")
    response = rosa.post(f"/inbox/cases/{case.service_request_id}/reply",
                         data={"csrf_token": token(page), "text": "We fixed it yesterday."})
    assert response.status_code == 409
    assert element(response, "reply-error") == f"Case {case.service_request_id} is closed."
    assert element(response, "kept-reply") == "We fixed it yesterday."
    assert [kind for kind, _, _ in history(cases, case)] == ["opened", "closed"]
    assert outbox(cases, "web-closed") == []


def test_asking_for_details_waits_for_the_citizen(app, cases):
    case = pothole(cases, "web-ask")
    response = post(logged_in(app, "rosa"), case, "ask", text="Which side of the street is it on?")
    assert response.status_code == 303
    assert cases.get(case.service_request_id).state == "waiting_citizen"
    assert history(cases, case)[-1] == ("asked_details", "rosa", "Which side of the street is it on?")
    assert outbox(cases, "web-ask") == [f"{case.service_request_id}: Which side of the street is it on?"]


def test_reassigning_needs_a_reason_and_a_real_department_and_keeps_what_was_typed(app, cases):
    case = pothole(cases, "web-reassign")
    rosa = logged_in(app, "rosa")
    no_reason = post(rosa, case, "reassign", department="waste", reason="  ")
    assert no_reason.status_code == 400
    assert element(no_reason, "reassign-error") == "Say why the case goes to another department."
    assert '<option value="waste" selected>' in no_reason.text
    unchosen = post(rosa, case, "reassign", department="", reason="it is rubbish")
    assert unchosen.status_code == 400
    assert element(unchosen, "reassign-error") == "Choose the department the case goes to."
    assert element(unchosen, "reassign-reason") == "it is rubbish"
    forged = post(rosa, case, "reassign", department="nowhere", reason="it is rubbish")
    assert forged.status_code == 400
    assert element(forged, "reassign-error") == "Unknown department 'nowhere'."
    assert element(forged, "reassign-reason") == "it is rubbish"
    assert cases.get(case.service_request_id).agency_responsible == "public-works"

    moved = post(rosa, case, "reassign", department="waste", reason="It is a pile of dumped rubbish")
    assert (moved.status_code, moved.headers["location"]) == (303, "/inbox")
    assert element(rosa.get("/inbox"), "flash") == f"Case {case.service_request_id} is now with Waste & Recycling."
    stored = cases.get(case.service_request_id)
    assert (stored.agency_responsible, stored.state, stored.assignee) == ("waste", "new", None)
    last = stored.events[-1]
    assert (last.kind, last.actor, last.text, last.data) == ("reassigned", "rosa", "It is a pile of dumped rubbish",
                                                             {"from": "public-works", "to": "waste"})
    assert rosa.get(f"/inbox/cases/{case.service_request_id}").status_code == 404
    assert logged_in(app, "wes").get(f"/inbox/cases/{case.service_request_id}").status_code == 200


def test_closing_with_a_note_ends_the_case_and_its_actions(app, cases):
    case = pothole(cases, "web-close")
    rosa = logged_in(app, "rosa")
    response = post(rosa, case, "close", note="Filled on Tuesday.")
    assert response.status_code == 303
    stored = cases.get(case.service_request_id)
    assert (stored.status, stored.state, stored.status_notes) == ("closed", "closed", "Filled on Tuesday.")
    assert history(cases, case)[-1] == ("closed", "rosa", "Filled on Tuesday.")
    page = rosa.get(f"/inbox/cases/{case.service_request_id}")
    assert element(page, "closed-note") == "This case is closed; it can no longer be changed."
    assert 'id="reply"' not in page.text
    assert case.service_request_id not in [n for _, n, _ in rows(rosa.get("/inbox"))]


# --- escalation ------------------------------------------------------------------------------------------

def test_only_supervisors_escalate_overdue_cases_and_a_notice_to_the_head_is_queued(app, cases, settings):
    overdue = open_case(desk_at(settings, now_minus(cases, hours=4)), category="pothole", text="pothole, day old",
                        conversation_id="web-late")
    rosa = logged_in(app, "rosa")
    refused = rosa.post("/inbox/escalate", data={"csrf_token": token(rosa.get("/inbox"))})
    assert refused.status_code == 403
    assert element(refused, "error-message") == "Only a supervisor can escalate overdue cases."
    assert cases.get(overdue.service_request_id).escalated_at is None

    sam = logged_in(app, "sam")
    response = sam.post("/inbox/escalate", data={"csrf_token": token(sam.get("/inbox"))})
    assert (response.status_code, response.headers["location"]) == (303, "/inbox")
    assert re.fullmatch(r"Escalated \d+ overdue cases?; their department heads were notified\.",
                        element(sam.get("/inbox"), "flash"))
    stored = cases.get(overdue.service_request_id)
    assert stored.escalated_at is not None
    assert (stored.events[-1].kind, stored.events[-1].data) == ("escalated", {"notified": PUBLIC_WORKS_HEAD})
    mails = [m.text for m in waiting_for(cases.sessions, channel="email", conversation_id=PUBLIC_WORKS_HEAD)]
    assert any(m.startswith(f"Subject: [CityDesk] Overdue: {overdue.service_request_id} ") for m in mails)
    sam.post("/inbox/escalate", data={"csrf_token": token(sam.get("/inbox"))})
    assert element(sam.get("/inbox"), "flash") == "No overdue case was waiting to be escalated."


def test_the_desk_escalates_overdue_cases_by_itself_when_it_starts(tmp_path):
    settings = Settings(data_dir=tmp_path, rasa_port=free_port())
    upgrade(settings.resolved_database_url)
    past = desk_at(settings, datetime.now(UTC) - timedelta(hours=4))
    late = open_case(past, category="pothole", text="pothole nobody answered", conversation_id="web-start")
    app = create_app(settings)
    with TestClient(app):
        stored = app.state.cases.get(late.service_request_id)
        assert stored.escalated_at is not None
        assert [e.kind for e in stored.events] == ["opened", "escalated"]
        mails = waiting_for(app.state.cases.sessions, channel="email", conversation_id=PUBLIC_WORKS_HEAD)
        assert [m.case_id for m in mails if "Overdue" in m.text] == [late.id]
