"""The inbox's "Answer with a knowledge base entry" over HTTP: the citizen receives the entry's answer, the case is
linked to the entry, and the citizen's words (redacted) become an approved phrasing of it. The desk runs in-process
with the demo knowledge base."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from desk.app import create_app
from handoff.directory import SLA
from handoff.models import Case
from handoff.service import SYSTEM, CaseDesk
from knowledge_base.candidates import CandidateState
from knowledge_base.learning import AUTO_APPROVER
from outbox.store import waiting_for
from settings import DEMO_KB_FILE, Settings
from tests.desk.inbox_support import add_users, element, logged_in, token
from tests.handoff.conftest import open_case
from tests.support import free_port

BULK = "demo-0002"  # How do I schedule a bulk item pickup for furniture or appliances?
COUCH = "I'm Jane Doe, text me on 303-555-0142. My old sofa is on the porch, can the city haul it away"
LEARNED = "I'm [name], text me on [phone]. My old sofa is on the porch, can the city haul it away"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("answer-with-entry"), seed_kb_file=DEMO_KB_FILE,
                        rasa_port=free_port())
    application = create_app(settings)
    with TestClient(application):
        add_users(application.state.staff)
        yield application


@pytest.fixture
def cases(app: FastAPI) -> CaseDesk:
    return app.state.cases


def demo_entry(entry_id: str) -> dict:
    return next(e for e in map(json.loads, DEMO_KB_FILE.read_text(encoding="utf-8").splitlines())
                if e and e["id"] == entry_id)


def couch_case(cases: CaseDesk, conversation_id: str, text: str = COUCH) -> Case:
    """A question the assistant could not answer (by default with the citizen's phone number in it), for Waste &
    Recycling."""
    return open_case(cases, category=None, department="waste", sla=SLA.REVIEW, text=text,
                     conversation_id=conversation_id)


def answer_with(client: TestClient, case: Case, entry_id: str, page_path: str | None = None) -> Response:
    page = client.get(page_path or f"/inbox/cases/{case.service_request_id}")
    return client.post(f"/inbox/cases/{case.service_request_id}/answer-with-entry",
                       data={"csrf_token": token(page), "entry_id": entry_id})


def arrived(client: TestClient, conversation_id: str) -> list[str]:
    """What the citizen's chat page fetches from the desk (each message once)."""
    response = client.get("/api/chat/updates", params={"sender": conversation_id})
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()]


def history(cases: CaseDesk, case: Case) -> list[tuple[str, str, str | None, dict]]:
    return [(e.kind, e.actor, e.text, dict(e.data or {})) for e in cases.get(case.service_request_id).events]


def test_the_citizen_receives_the_entrys_answer_the_case_links_it_and_its_words_become_a_phrasing(app, cases):
    case = couch_case(cases, "web-couch")
    wes = logged_in(app, "wes")
    page = wes.get(f"/inbox/cases/{case.service_request_id}")
    assert page.status_code == 200
    offered = re.findall(r'<option value="([^"]+)"', page.text.split('id="answer-with-entry"')[1].split("</form>")[0])
    assert BULK in offered

    response = answer_with(wes, case, BULK)
    assert (response.status_code, response.headers["location"]) == (303, f"/inbox/cases/{case.service_request_id}")
    entry = demo_entry(BULK)
    text = f"{entry['answer']}\n\nMore: {entry['url']}"
    assert [m.text for m in waiting_for(cases.sessions, channel="web", conversation_id="web-couch")] == [
        f"{case.service_request_id}: {text}"]
    assert arrived(wes, "web-couch") == [f"{case.service_request_id}: {text}"]
    assert arrived(wes, "web-couch") == []  # shown once

    stored = cases.get(case.service_request_id)
    assert (stored.state, stored.status, stored.status_notes, stored.assignee) == ("answered", "open", text, "wes")
    assert history(cases, case)[-1] == ("replied", "wes", text, {"entry_id": BULK})
    shown = wes.get(response.headers["location"])
    assert element(shown, "flash") == f"The answer of {BULK} is on its way to the citizen."
    assert f"with knowledge base entry {BULK}" in shown.text

    learner, kb = app.state.learner, app.state.knowledge_base
    [learned] = [c for c in learner.candidates.page(state=None, entry_id=BULK)[0] if c.text == LEARNED]
    assert (learned.state, learned.decided_by, learned.sources) == (CandidateState.APPROVED, AUTO_APPROVER,
                                                                    ("staff",))
    assert LEARNED in kb.store.get(BULK).alt_questions
    assert all("555-0142" not in p and "Jane" not in p for p in kb.store.get(BULK).phrasings)
    hit = kb.search(COUCH, top_k=1)[0]  # the assistant answers these words itself from now on
    assert (hit.entry.id, hit.matched_phrasing) == (BULK, LEARNED)


def test_an_unknown_entry_is_refused_beside_the_form_and_nothing_is_sent(app, cases):
    case = couch_case(cases, "web-couch-unknown")
    wes = logged_in(app, "wes")
    response = answer_with(wes, case, "demo-9999")
    assert response.status_code == 400
    assert element(response, "entry-error") == "There is no published entry 'demo-9999'."
    assert 'id="entry-error"' in response.text.split('id="answer-with-entry"')[1].split("</form>")[0]
    assert [kind for kind, *_ in history(cases, case)] == ["opened"]
    assert arrived(wes, "web-couch-unknown") == []
    assert cases.get(case.service_request_id).state != "answered"


def test_a_closed_case_cannot_be_answered_with_an_entry(app, cases):
    case = couch_case(cases, "web-couch-closed")
    wes = logged_in(app, "wes")
    page = wes.get(f"/inbox/cases/{case.service_request_id}")
    cases.close(service_request_id=case.service_request_id, actor=SYSTEM)
    response = wes.post(f"/inbox/cases/{case.service_request_id}/answer-with-entry",
                        data={"csrf_token": token(page), "entry_id": BULK})
    assert response.status_code == 409
    assert element(response, "entry-error").startswith(f"Case {case.service_request_id} is closed")
    assert [kind for kind, *_ in history(cases, case)] == ["opened", "closed"]
    assert arrived(wes, "web-couch-closed") == []


@pytest.mark.parametrize("entry_id", [BULK, "demo-9999"])
def test_staff_of_another_department_cannot_answer_a_case_they_cannot_see(app, cases, entry_id):
    words = f"the old armchair on my porch needs collecting ({entry_id})"
    case = couch_case(cases, f"web-couch-isolation-{entry_id}", words)
    rosa = logged_in(app, "rosa")  # public works; the case is Waste & Recycling's
    response = rosa.post(f"/inbox/cases/{case.service_request_id}/answer-with-entry",
                         data={"csrf_token": token(rosa.get("/inbox")), "entry_id": entry_id})
    assert response.status_code == 404
    assert element(response, "error-message") == f"There is no case {case.service_request_id} in your inbox."
    assert "armchair" not in response.text
    assert [kind for kind, *_ in history(cases, case)] == ["opened"]
    assert arrived(rosa, f"web-couch-isolation-{entry_id}") == []
    assert not any("armchair" in c.text for c in app.state.learner.candidates.page(state=None, limit=1000)[0])
    assert all("armchair" not in p for p in app.state.knowledge_base.store.get(BULK).phrasings)
