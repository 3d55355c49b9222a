"""The editor's "Suggested phrasings" page over HTTP: what editors see, bulk approval and rejection, who may use it,
CSRF, and no personal data. The desk runs in-process with the demo knowledge base; the candidates are recorded by
the desk's own learner, as the chat records them (redacted).

Each test uses candidates of its own demo entry, so that the module's tests do not see each other's decisions."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from desk.app import create_app
from desk.web.auth import FORM_REJECTED
from knowledge_base.candidates import CandidateState, Source
from knowledge_base.learning import PhrasingLearner
from settings import DEMO_KB_FILE, Settings
from tests.desk.inbox_support import add_users, element, logged_in, token
from tests.support import free_port

PAGE = "/editor/suggestions"
ROWS = re.compile(r'<tr class="suggestion" data-id="(\d+)" data-entry="([^"]+)">\s*<td>(.*?)</td>\s*'
                  r'<td class="text">(.*?)</td>', re.DOTALL)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("suggestions"), seed_kb_file=DEMO_KB_FILE,
                        rasa_port=free_port())
    application = create_app(settings)
    with TestClient(application):
        add_users(application.state.staff)
        yield application


@pytest.fixture
def learner(app: FastAPI) -> PhrasingLearner:
    return app.state.learner


def rows(response: Response) -> dict[int, tuple[str, str, bool]]:
    """Each listed candidate: id → (entry, phrasing as shown, has a checkbox)."""
    return {int(i): (entry, html.unescape(text.strip()), 'name="ids"' in box)
            for i, entry, box, text in ROWS.findall(response.text)}


def seed(learner: PhrasingLearner, entry_id: str, text: str, conversation: str | None = None) -> int:
    """A citizen's choice of the entry for `text` (one conversation): a pending candidate; its id."""
    candidate = learner.record(text, entry_id, conversation_id=conversation or f"web-{entry_id}-{text[:20]}",
                               source=Source.CLARIFICATION)
    assert candidate is not None and candidate.state is CandidateState.PENDING
    return candidate.id


def decide(client: TestClient, ids: list[int], action: str) -> Response:
    """Tick `ids` on the page and press Approve or Reject selected."""
    page = client.get(PAGE)
    return client.post(PAGE, data={"csrf_token": token(page), "ids": [str(i) for i in ids], "action": action})


@pytest.fixture
def eddie(app: FastAPI) -> TestClient:
    return logged_in(app, "eddie")


def test_an_editor_sees_the_pending_suggestions_with_their_checkboxes_and_can_filter(app, learner, eddie):
    water = seed(learner, "demo-0001", "garbage truck day on maple street")
    again = seed(learner, "demo-0001", "garbage truck day on maple street", "web-another-conversation")
    assert again == water  # the same words in another conversation: one candidate, confirmed twice
    other = seed(learner, "demo-0001", "when do the bins go out")
    approved = seed(learner, "demo-0001", "trash collection weekday")
    learner.approve([approved], editor="eddie")

    page = eddie.get(PAGE)
    assert page.status_code == 200
    listed = rows(page)
    assert listed[water] == ("demo-0001", "garbage truck day on maple street", True)
    assert listed[other] == ("demo-0001", "when do the bins go out", True)
    assert approved not in listed
    assert list(listed).index(water) < list(listed).index(other)  # most confirmed first
    assert re.search(rf'data-id="{water}".*?<td class="confirmations">2</td>', page.text, re.DOTALL)
    assert 'id="approve-selected"' in page.text and 'id="reject-selected"' in page.text

    decided = eddie.get(PAGE, params={"state": "approved", "entry": "demo-0001"})
    assert decided.status_code == 200
    assert rows(decided) == {approved: ("demo-0001", "trash collection weekday", False)}
    assert set(rows(eddie.get(PAGE, params={"state": "all", "entry": "demo-0001"}))) == {water, other, approved}
    assert rows(eddie.get(PAGE, params={"entry": "demo-0099"})) == {}
    assert element(eddie.get(PAGE, params={"entry": "demo-0099"}), "no-suggestions") == "No pending suggestions."

    wrong = eddie.get(PAGE, params={"state": "maybe"})
    assert wrong.status_code == 400
    assert "There is no state &#39;maybe&#39;; showing the pending suggestions." in wrong.text
    assert water in rows(wrong)


def test_bulk_approval_adds_the_phrasings_at_once_and_says_how_many(app, learner, eddie):
    kb = app.state.knowledge_base
    before = kb.store.record("demo-0002").version
    sofa = seed(learner, "demo-0002", "my couch has to go, who takes it")
    fridge = seed(learner, "demo-0002", "fridge removal from the curb")
    untouched = seed(learner, "demo-0002", "dumpster for renovation waste")

    response = decide(eddie, [sofa, fridge], "approve")
    assert (response.status_code, response.headers["location"]) == (303, PAGE)
    page = eddie.get(PAGE)
    assert element(page, "flash") == "Approved 2 suggested phrasings."
    assert sofa not in rows(page) and fridge not in rows(page) and untouched in rows(page)

    record = kb.store.record("demo-0002")
    assert record.version == before + 1  # one new published version for both
    assert record.entry.alt_questions[-2:] == ("my couch has to go, who takes it", "fridge removal from the curb")
    assert "dumpster for renovation waste" not in record.entry.alt_questions
    for candidate_id in (sofa, fridge):
        candidate = learner.candidates.get(candidate_id)
        assert (candidate.state, candidate.decided_by, candidate.entry_version) == (
            CandidateState.APPROVED, "eddie", record.version)
    hit = kb.search("fridge removal from the curb", top_k=1)[0]  # indexed at once
    assert (hit.entry.id, hit.matched_phrasing) == ("demo-0002", "fridge removal from the curb")


def test_bulk_rejection_adds_nothing_and_an_already_decided_one_is_skipped(app, learner, eddie):
    kb = app.state.knowledge_base
    before = kb.store.record("demo-0003")
    wrong = seed(learner, "demo-0003", "can I adopt a cat from the shelter")
    right = seed(learner, "demo-0003", "the truck skipped my street today")

    rejected = decide(eddie, [wrong], "reject")
    assert rejected.status_code == 303
    assert element(eddie.get(PAGE), "flash") == "Rejected 1 suggested phrasing."
    assert learner.candidates.get(wrong).state is CandidateState.REJECTED
    assert kb.store.record("demo-0003").version == before.version
    assert rows(eddie.get(PAGE, params={"state": "rejected", "entry": "demo-0003"})) == {
        wrong: ("demo-0003", "can I adopt a cat from the shelter", False)}

    decide(eddie, [wrong, right], "approve")
    assert element(eddie.get(PAGE), "flash") == (
        f"Approved 1 suggested phrasing. Skipped: {wrong} (already rejected).")
    phrasings = kb.store.get("demo-0003").alt_questions
    assert "the truck skipped my street today" in phrasings
    assert "can I adopt a cat from the shelter" not in phrasings

    nothing = decide(eddie, [], "approve")
    assert nothing.status_code == 303
    assert element(eddie.get(PAGE), "flash") == "Tick at least one suggestion, then Approve or Reject."


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(app, learner, eddie):
    pending = seed(learner, "demo-0004", "csrf test phrasing about recycling bins")
    someone_elses = token(logged_in(app, "eddie").get(PAGE))
    for data in ({"ids": [str(pending)], "action": "approve"},
                 {"ids": [str(pending)], "action": "approve", "csrf_token": ""},
                 {"ids": [str(pending)], "action": "reject", "csrf_token": someone_elses}):
        response = eddie.post(PAGE, data=data)
        assert response.status_code == 403
        assert element(response, "error-message") == FORM_REJECTED
    assert learner.candidates.get(pending).state is CandidateState.PENDING


@pytest.mark.parametrize("username", ["rosa", "sam"])
def test_staff_and_supervisors_are_refused_and_change_nothing(app, learner, username):
    pending = seed(learner, "demo-0005", f"refused for {username}: recycling rules")
    client = logged_in(app, username)
    page = client.get(PAGE)
    assert page.status_code == 403
    assert "recycling rules" not in page.text
    their_token = token(client.get("/inbox"))
    response = client.post(PAGE, data={"csrf_token": their_token, "ids": [str(pending)], "action": "approve"})
    assert response.status_code == 403
    assert element(response, "error-title") == "No editor for this account"
    assert learner.candidates.get(pending).state is CandidateState.PENDING
    anonymous = TestClient(app, follow_redirects=False).post(PAGE, data={"ids": [str(pending)], "action": "approve",
                                                                        "csrf_token": "x"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/inbox/login")
    assert learner.candidates.get(pending).state is CandidateState.PENDING


def test_personal_data_is_never_shown_nor_added(app, learner, eddie):
    candidate_id = seed(learner, "demo-0002", "I'm Jane Doe, text me on 303-555-0142, when can my old sofa go")
    page = eddie.get(PAGE, params={"entry": "demo-0002"})
    entry, shown, _ = rows(page)[candidate_id]
    assert entry == "demo-0002"
    assert "[phone]" in shown and "when can my old sofa go" in shown
    assert "555-0142" not in page.text and "Jane Doe" not in page.text
    decide(eddie, [candidate_id], "approve")
    assert all("555-0142" not in p for p in app.state.knowledge_base.store.get("demo-0002").phrasings)
    assert shown in app.state.knowledge_base.store.get("demo-0002").alt_questions
