"""Clarification on the desk's internal API: close entries are offered, a choice answers, none of them hands off."""

from __future__ import annotations

import json

import pytest

from handoff.intake import CHOSEN_REASON
from settings import DEMO_KB_FILE, Settings
from tests.support import free_port

DEMO = {e["id"]: e for e in map(json.loads, DEMO_KB_FILE.read_text().splitlines())}
# Two demo entries rank close together for this message, both below the calibrated answer threshold.
WATER_BILL = "what's going on with my water bill?"
OFFERED = ["demo-0067", "demo-0062"]


@pytest.fixture(scope="module")
def desk_settings(tmp_path_factory) -> Settings:
    """Set thresholds, no confirm band: the message stays in the clarification band (0.6 to 0.9) whatever the
    calibration of the day."""
    return Settings(data_dir=tmp_path_factory.mktemp("clarify"), seed_kb_file=DEMO_KB_FILE, rasa_port=free_port(),
                    answer_threshold=0.9, confirm_threshold=0.9)


def ask(client, internal, sender: str, **fields) -> dict:
    response = client.post("/api/messages", headers=internal,
                           json={"text": WATER_BILL, "conversation_id": sender, "intent": "ask_question", **fields})
    assert response.status_code == 200, response.text
    return response.json()


def outcome(client, internal, sender: str) -> dict:
    return client.get(f"/api/conversations/{sender}/outcome", headers=internal).json()


def test_close_entries_are_offered_with_their_questions_and_nothing_else_happens(client, internal):
    decision = ask(client, internal, "web-clarify-offer")
    assert decision == {"route": "clarify", "reason": "close entries: the citizen chooses", "answer": None,
                        "case": None, "options": [{"id": i, "question": DEMO[i]["question"]} for i in OFFERED],
                        "ask": False}
    recorded = outcome(client, internal, "web-clarify-offer")
    assert (recorded["route"], recorded["entry_id"], recorded["case"]) == ("clarify", None, None)


def test_choosing_an_offered_entry_answers_with_it_and_is_recorded_as_an_answer(client, internal):
    sender = "web-clarify-choose"
    ask(client, internal, sender)
    response = client.post("/api/messages/choice", headers=internal,
                           json={"text": WATER_BILL, "conversation_id": sender, "entry_id": OFFERED[1]})
    assert response.status_code == 200, response.text
    decision = response.json()
    assert (decision["route"], decision["reason"], decision["case"], decision["options"]) == (
        "answer", CHOSEN_REASON, None, [])
    entry = DEMO[OFFERED[1]]
    assert {k: decision["answer"][k] for k in ("id", "question", "answer", "url")} == {
        k: entry[k] for k in ("id", "question", "answer", "url")}
    recorded = outcome(client, internal, sender)
    assert (recorded["route"], recorded["reason"], recorded["entry_id"], recorded["decisions"]) == (
        "answer", CHOSEN_REASON, OFFERED[1], 2)


def test_an_entry_that_was_not_found_for_the_message_cannot_be_chosen_and_nothing_is_recorded(client, internal):
    sender = "web-clarify-unknown"
    ask(client, internal, sender)
    response = client.post("/api/messages/choice", headers=internal,
                           json={"text": WATER_BILL, "conversation_id": sender, "entry_id": "no-such-entry"})
    assert response.status_code == 404
    assert response.json() == {"detail": "entry 'no-such-entry' is not among the entries found for this message"}
    assert outcome(client, internal, sender)["decisions"] == 1


def test_none_of_the_offered_entries_hands_the_question_off_as_a_simple_case(client, internal):
    sender = "web-clarify-none"
    ask(client, internal, sender)
    decision = ask(client, internal, sender, intent=None, declined=True)
    assert (decision["route"], decision["reason"], decision["answer"], decision["options"]) == (
        "case", "none of the entries offered fits", None, [])
    assert decision["case"]["sla"] == "simple"  # a question for information
    assert decision["case"]["department_name"] == "Water & Utilities"
    recorded = outcome(client, internal, sender)
    assert recorded["case"]["service_request_id"] == decision["case"]["service_request_id"]


def test_a_choice_needs_the_internal_token(client):
    response = client.post("/api/messages/choice",
                           json={"text": WATER_BILL, "conversation_id": "web-x", "entry_id": OFFERED[0]})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [{"text": " ", "conversation_id": "web-x", "entry_id": "demo-0067"},
                                  {"text": WATER_BILL, "conversation_id": "web-x", "entry_id": ""},
                                  {"text": WATER_BILL, "entry_id": "demo-0067"}])
def test_a_bad_choice_is_refused_with_a_clear_422(client, internal, body):
    response = client.post("/api/messages/choice", headers=internal, json=body)
    assert response.status_code == 422


def test_a_choice_without_its_message_answers_a_published_entry_through_its_own_question(client, internal):
    """An old button pressed after the conversation moved on: only the entry is known."""
    sender = "web-clarify-old-button"
    response = client.post("/api/messages/choice", headers=internal,
                           json={"text": None, "conversation_id": sender, "entry_id": OFFERED[1]})
    assert response.status_code == 200, response.text
    decision = response.json()
    assert (decision["route"], decision["reason"], decision["answer"]["id"]) == ("answer", CHOSEN_REASON, OFFERED[1])
    recorded = outcome(client, internal, sender)
    assert (recorded["route"], recorded["entry_id"]) == ("answer", OFFERED[1])
    unknown = client.post("/api/messages/choice", headers=internal,
                          json={"conversation_id": sender, "entry_id": "no-such-entry"})
    assert unknown.status_code == 404
