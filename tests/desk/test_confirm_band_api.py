"""The confirm band on the desk's internal API: an answer that asks "Did this answer your question?", a "Yes" that
teaches the knowledge base the citizen's words, a "No" that hands the message off at once. Real model, real SQLite.

The thresholds are set, not calibrated, so that a paraphrase of a demo entry lands in the confirm band."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from handoff.decide import ASKED_REASON
from knowledge_base.candidates import CandidateState
from settings import DEMO_KB_FILE, Settings
from tests.support import free_port

# Paraphrases of the demo's bulk pickup entry that its phrasings do not hold word for word.
PARAPHRASE = "who do I call to get rid of an old couch"
BULK = "demo-0002"


@pytest.fixture(scope="module")
def confirm_client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("confirm"), seed_kb_file=DEMO_KB_FILE, rasa_port=free_port(),
                        answer_threshold=0.75, confirm_threshold=0.05, phrasing_auto_approve_after=3)
    with TestClient(create_app(settings)) as client:
        yield client, {"Authorization": f"Bearer {settings.resolved_internal_token}"}


def ask(client: TestClient, headers: dict[str, str], conversation: str, text: str = PARAPHRASE, **fields) -> dict:
    response = client.post("/api/messages", headers=headers,
                           json={"text": text, "conversation_id": conversation, "intent": "ask_question", **fields})
    assert response.status_code == 200, response.text
    return response.json()


def vote(client: TestClient, headers: dict[str, str], conversation: str, entry_id: str, helpful: bool) -> None:
    response = client.post("/api/kb/feedback", headers=headers,
                           json={"entry_id": entry_id, "conversation_id": conversation, "helpful": helpful})
    assert response.status_code == 201, response.text


def test_an_answer_of_the_confirm_band_asks_and_is_recorded_as_an_answer(confirm_client):
    client, headers = confirm_client
    decision = ask(client, headers, "web-confirm-asks")
    assert (decision["route"], decision["reason"], decision["ask"], decision["case"]) == (
        "answer", ASKED_REASON, True, None)
    outcome = client.get("/api/conversations/web-confirm-asks/outcome", headers=headers).json()
    assert (outcome["route"], outcome["reason"], outcome["entry_id"]) == ("answer", ASKED_REASON,
                                                                          decision["answer"]["id"])


def test_no_hands_the_message_off_at_once_and_counts_against_the_phrasing(confirm_client):
    client, headers = confirm_client
    conversation = "web-confirm-no"
    proposed = ask(client, headers, conversation, "where can I drop off paint cans")["answer"]["id"]
    declined = ask(client, headers, conversation, "where can I drop off paint cans", intent=None, declined=True)
    assert declined["route"] == "case"
    assert declined["case"]["sla"] in ("simple", "review")
    learner = client.app.state.learner
    rejected = [c for c in learner.candidates.page(entry_id=proposed)[0] if c.text == "where can I drop off paint cans"]
    assert [(c.confirmations, c.rejections) for c in rejected] == [(0, 1)]


def test_three_yeses_in_separate_conversations_make_the_words_a_phrasing_that_answers_directly(confirm_client):
    client, headers = confirm_client
    learner = client.app.state.learner
    for n in range(3):
        conversation = f"web-confirm-yes-{n}"
        decision = ask(client, headers, conversation)
        assert (decision["ask"], decision["answer"]["id"]) == (True, BULK)
        vote(client, headers, conversation, BULK, helpful=True)
        vote(client, headers, conversation, BULK, helpful=True)  # twice in one conversation counts once
    candidates, _ = learner.candidates.page(state=None, entry_id=BULK)
    learned = next(c for c in candidates if c.text == PARAPHRASE)
    assert (learned.state, learned.confirmations, learned.decided_by) == (CandidateState.APPROVED, 3,
                                                                          "auto-approval")
    assert PARAPHRASE in client.app.state.knowledge_base.store.get(BULK).alt_questions
    again = ask(client, headers, "web-confirm-after")
    assert (again["route"], again["ask"], again["answer"]["id"]) == ("answer", False, BULK)


def test_personal_data_never_becomes_a_phrasing(confirm_client):
    client, headers = confirm_client
    text = "who picks up an old couch? I am at 555-201-3344 all day"
    decision = ask(client, headers, "web-confirm-pii", text)
    vote(client, headers, "web-confirm-pii", decision["answer"]["id"], helpful=True)
    texts = [c.text for c in client.app.state.learner.candidates.page(state=None, limit=1000)[0]]
    assert not any("555-201-3344" in t for t in texts)
    assert any("who picks up an old couch" in t for t in texts)
