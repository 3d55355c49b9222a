"""The department's work on a case over HTTP: the head assigns, an officer takes a case, a take-over needs a reason
and a stale form never overwrites, answers reviewed where the department wants it, internal notes that never leave
the staff pages, the inbox's views, and the clock on the case page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from desk.web.inbox import NOBODY
from handoff.directory import SLA
from handoff.models import Case
from handoff.service import CaseDesk
from handoff.staff import actor_of
from outbox.store import waiting_for
from settings import Settings
from tests.desk.inbox_support import PASSWORD, anonymous, element, logged_in, token
from tests.handoff.conftest import FakeClock, open_case
from tests.support import free_port

# username: (display name, role, department, reviewer); Permits & Licensing reviews answers (departments.yml)
PEOPLE = {"pat": ("Pat Officer", "staff", "permits", False), "pia": ("Pia Officer", "staff", "permits", False),
          "sam": ("Sam Head", "head", "permits", False), "rev": ("Rev Reviewer", "staff", "permits", True),
          "rosa": ("Rosa Martinez", "staff", "public-works", False), "chief": ("Chief", "supervisor", None, False)}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("casework"), rasa_port=free_port(),
                        disclosure_delay_hours=0)
    application = create_app(settings)
    with TestClient(application):
        for username, (name, role, department, reviewer) in PEOPLE.items():
            application.state.staff.add(username=username, display_name=name, password=PASSWORD, role=role,
                                        department=department, reviewer=reviewer)
        yield application


@pytest.fixture
def cases(app) -> CaseDesk:
    return app.state.cases


def permit_case(cases: CaseDesk, conversation_id: str, text: str = "Do I need a permit for a garden shed?") -> Case:
    return open_case(cases, category=None, department="permits", sla=SLA.REVIEW, text=text,
                     conversation_id=conversation_id)


def page(client: TestClient, case: Case):
    response = client.get(f"/inbox/cases/{case.service_request_id}")
    assert response.status_code == 200, response.text
    return response


def post(client: TestClient, case: Case, path: str, **form: str):
    """A form of the case page, sent with the page's CSRF token (as the browser sends it)."""
    return client.post(f"/inbox/cases/{case.service_request_id}/{path}",
                       data={"csrf_token": token(page(client, case)), **form})


def kinds(cases: CaseDesk, case: Case) -> list[tuple[str, str, str | None]]:
    return [(e.kind, e.actor, e.text) for e in cases.get(case.service_request_id).events][1:]


def test_the_head_assigns_the_case_to_a_named_officer_of_the_department(app, cases):
    case = permit_case(cases, "web-assign")
    head = logged_in(app, "sam")
    response = page(head, case)
    assert element(response, "assignment-holder") == "Nobody has this case yet."
    for officer in ("Pat Officer (pat)", "Pia Officer (pia)", "Sam Head (sam, head)"):
        assert officer in element(response, "assign-officer")
    assert "rosa" not in element(response, "assign-officer")  # another department's
    response = post(head, case, "assign", officer="pat", reason="Pat knows the sheds bylaw", seen_assignee=NOBODY)
    assert response.status_code == 303
    response = page(head, case)
    assert element(response, "flash") == "The case is assigned to pat."
    assert element(response, "assignment-holder") == "Assigned to pat."
    assert kinds(cases, case) == [("assigned", "sam", "Pat knows the sheds bylaw")]
    # an officer has no assign form, and the form posted anyway is refused
    officer = logged_in(app, "pia")
    assert 'id="assign"' not in page(officer, case).text
    response = post(officer, case, "assign", officer="pia", seen_assignee="pat")
    assert response.status_code == 400
    assert element(response, "assign-error") == ("Only the department's head or a supervisor assigns cases; take it "
                                                 "yourself instead.")
    assert cases.get(case.service_request_id).assignee == "pat"


def test_an_officer_takes_an_unassigned_case_and_a_stale_form_gets_a_conflict_not_an_overwrite(app, cases):
    case = permit_case(cases, "web-take")
    pat, pia = logged_in(app, "pat"), logged_in(app, "pia")
    pias_page = page(pia, case)  # Pia opens the page while nobody has the case
    assert post(pat, case, "claim", seen_assignee=NOBODY).status_code == 303
    assert element(page(pat, case), "assignment-holder") == "Assigned to pat (you)."
    response = pia.post(f"/inbox/cases/{case.service_request_id}/claim",
                        data={"csrf_token": token(pias_page), "seen_assignee": NOBODY})
    assert response.status_code == 409
    assert element(response, "claim-error") == ("The case changed hands since you opened it by pat: pat has it now. "
                                                "Nothing was changed; look again before you act.")
    assert element(response, "assignment-holder") == "Assigned to pat."
    assert cases.get(case.service_request_id).assignee == "pat"
    # take-over: a reason is required, then it is recorded with who and why
    response = post(pia, case, "assign", move="take_over", reason="  ", seen_assignee="pat")
    assert response.status_code == 400
    assert element(response, "take_over-error") == "Say why you take the case over from pat."
    response = post(pia, case, "assign", move="take_over", reason="Pat is on leave this week", seen_assignee="pat")
    assert response.status_code == 303
    response = page(pia, case)
    assert element(response, "flash") == "You have taken over this case."
    assert element(response, "assignment-holder") == "Assigned to pia (you)."
    assert "<strong>Taken over</strong> by pia" in response.text and "to pia from pat" in response.text
    assert kinds(cases, case) == [("claimed", "pat", None), ("taken_over", "pia", "Pat is on leave this week")]
    # Pat's old page still says Pat has it: taking it back over from that stale page is a conflict
    response = post(pat, case, "claim", seen_assignee="pat")
    assert response.status_code == 409


def test_an_answer_in_a_reviewing_department_waits_is_returned_with_a_comment_then_approved(app, cases):
    case = permit_case(cases, "web-review")
    pat, head = logged_in(app, "pat"), logged_in(app, "sam")
    post(pat, case, "claim", seen_assignee=NOBODY)
    officer_page = page(pat, case)
    assert element(officer_page, "send-reply") == "Submit for review"
    response = post(pat, case, "reply", text="No permit needed below 10 square metres.", action="send")
    assert response.status_code == 303
    response = page(pat, case)
    assert element(response, "flash") == ("Your draft answer is waiting for review; the citizen receives it once a "
                                          "reviewer approves it.")
    assert element(response, "case-state").startswith("in_review")
    assert element(response, "review-waiting") == "Waiting for the head of Permits & Licensing, a supervisor or a " \
                                                  "reviewer."
    assert waiting_for(cases.sessions, channel="web", conversation_id="web-review") == []
    inbox = head.get("/inbox?view=review")
    assert int(element(inbox, "tab-count-review")) >= 1 and case.service_request_id in inbox.text
    # returned with a comment: the officer sees it and their draft back in the reply box
    first_draft = cases.get(case.service_request_id).draft_event_id
    response = post(head, case, "return", comment="Quote bylaw 12 and link the form.", draft=str(first_draft))
    assert response.status_code == 303
    response = page(pat, case)
    assert element(response, "returned-comment") == "Quote bylaw 12 and link the form."
    assert element(response, "reply-text") == "No permit needed below 10 square metres."
    assert waiting_for(cases.sessions, channel="web", conversation_id="web-review") == []
    post(pat, case, "reply", text="Bylaw 12: no permit below 10 square metres.", action="send")
    head_page = page(head, case)  # the head reads the second draft
    assert element(head_page, "draft-text") == "Bylaw 12: no permit below 10 square metres."
    # approving with a page of an older draft: a conflict, nothing sent
    stale = head.post(f"/inbox/cases/{case.service_request_id}/approve",
                      data={"csrf_token": token(head_page), "draft": str(first_draft)})
    assert stale.status_code == 409
    assert element(stale, "review-error").startswith("The draft changed since you opened the page")
    response = post(head, case, "approve", draft=str(cases.get(case.service_request_id).draft_event_id))
    assert response.status_code == 303
    response = page(head, case)
    assert element(response, "flash") == "Approved: the answer is on its way to the citizen."
    assert element(response, "case-state") == "answered"
    assert [m.text for m in waiting_for(cases.sessions, channel="web", conversation_id="web-review")] == [
        f"{case.service_request_id}: Bylaw 12: no permit below 10 square metres."]
    assert [k for k, _, _ in kinds(cases, case)] == ["claimed", "draft_submitted", "draft_returned",
                                                     "draft_submitted", "approved"]


def test_a_reviewer_flag_lets_a_staff_member_approve_and_answer_directly(app, cases):
    case = permit_case(cases, "web-reviewer")
    reviewer = logged_in(app, "rev")
    assert element(page(reviewer, case), "send-reply") == "Send reply"
    post(reviewer, case, "reply", text="No permit is needed.", action="send")
    assert cases.get(case.service_request_id).state == "answered"


def test_internal_notes_are_shown_as_staff_only_and_never_reach_disclosure_or_open311(app, cases):
    case = permit_case(cases, "web-notes", text="Is a permit needed for a fence at my house?")
    officer, secret = logged_in(app, "rev"), "Neighbour Harold Finch says the fence is already built"
    assert element(page(officer, case), "no-notes") == "No internal notes yet."
    response = post(officer, case, "notes", text=secret)
    assert response.status_code == 303
    response = page(officer, case)
    assert element(response, "flash") == "Your internal note is saved. Only staff see it."
    assert secret in element(response, "notes")
    assert "Only staff see this" in element(response, "internal-notes")
    assert "The citizen sees this" in element(response, "reply")
    post(officer, case, "reply", text="Fences under 2 m need no permit.", action="send")
    post(officer, case, "close", note="Answered: no permit needed.")
    assert element(page(officer, case), "case-answer") == "Answered: no permit needed."
    # the public: Open311 publishes the answer and closing note, never the note
    public = anonymous(app)
    request = public.get(f"/open311/v2/requests/{case.service_request_id}.json")
    assert request.status_code == 200 and request.json()[0]["status_notes"] == "Answered: no permit needed."
    assert "Harold" not in request.text and "already built" not in request.text
    listing = public.get("/open311/v2/requests.json")
    assert case.service_request_id in listing.text and "already built" not in listing.text
    # the disclosure: the conversation with the staff answer is published, the note is not
    exported = public.get("/api/disclosure/conversations.json").json()
    conversation = next(c for c in exported["conversations"]
                        if any(k["service_request_id"] == case.service_request_id for k in c["cases"]))
    assert any("Fences under 2 m need no permit." in m["text"] for m in conversation["messages"])
    disclosed = public.get(f"/disclosure/{conversation['id']}")
    assert disclosed.status_code == 200 and "Fences under 2 m need no permit." in disclosed.text
    for text in (disclosed.text, public.get("/disclosure", params={"q": "fence"}).text,
                 public.get("/api/disclosure/conversations.csv").text, str(exported)):
        assert "already built" not in text and "Harold" not in text


def test_inbox_views_show_mine_unassigned_and_awaiting_review_with_counts(app, cases):
    mine = permit_case(cases, "web-view-1")
    free = permit_case(cases, "web-view-2")
    pia = logged_in(app, "pia")
    post(pia, mine, "claim", seen_assignee=NOBODY)
    counts = cases.view_counts(actor_of(app.state.staff.get("pia")))
    response = pia.get("/inbox?view=mine")
    assert element(response, "tab-mine").startswith("My cases")
    assert int(element(response, "tab-count-mine")) == counts["mine"]
    assert mine.service_request_id in response.text and free.service_request_id not in response.text
    response = pia.get("/inbox?view=unassigned")
    assert free.service_request_id in response.text and mine.service_request_id not in response.text
    assert int(element(response, "tab-count-unassigned")) == counts["unassigned"]
    assert 'aria-current="page">Unassigned' in response.text
    assert pia.get("/inbox?view=nonsense").status_code == 200  # an unknown view: all open cases


def test_the_case_page_shows_the_clock_answered_in_time_is_met_and_not_highlighted(app, cases):
    case = open_case(cases, category="pothole", text="Pothole on Elm Street", conversation_id="web-clock-page")
    rosa = logged_in(app, "rosa")
    response = page(rosa, case)
    assert element(response, "case-clock") == "due" and element(response, "case-answered") == "not yet"
    post(rosa, case, "reply", text="A crew comes tomorrow.", action="send")
    [public] = anonymous(app).get(f"/open311/v2/requests/{case.service_request_id}.json").json()
    assert public["service_notice"] == "Public Works has answered; the case stays open until Public Works closes it."
    start = cases.now()
    try:
        cases.set_clock(FakeClock(start + timedelta(hours=5)))  # past the 3-hour deadline, still open
        response = page(rosa, case)
        assert element(response, "case-clock") == "deadline met"
        assert "(the citizen's first answer)" in element(response, "case-answered")
        inbox = rosa.get("/inbox")
        assert f'<tr class="case" data-case="{case.service_request_id}"' in inbox.text  # not class "case overdue"
        # waiting for the citizen: paused
        other = open_case(cases, category="pothole", text="Another pothole", conversation_id="web-clock-wait")
        post(rosa, other, "ask", text="Which house number?")
        cases.set_clock(FakeClock(start + timedelta(hours=10)))
        response = page(rosa, other)
        assert element(response, "case-clock").startswith("paused: waiting for the citizen since")
        assert element(response, "case-paused-for").startswith("5 h 0 min")
    finally:
        cases.set_clock(lambda: datetime.now(UTC))
