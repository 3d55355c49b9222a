"""Did you mean …? and was this helpful? through the real Rasa server, action server and desk."""

from __future__ import annotations

import json
import sqlite3
import uuid

import httpx
import pytest

from settings import DEMO_KB_FILE

pytestmark = pytest.mark.e2e

DEMO = {e["id"]: e for e in map(json.loads, DEMO_KB_FILE.read_text().splitlines())}
# Three demo entries rank close together for this question, all below the calibrated answer threshold.
AMBIGUOUS = "how long after a storm do i have to clear my walk"
OFFERED = ["demo-0089", "demo-0088", "demo-0094"]
FEEDBACK_BUTTONS = [  # under the answer of OFFERED[0] (version 1): the vote names it
    {"title": "Yes", "payload": f'/feedback{{"helpful":true,"kb_entry_id":"{OFFERED[0]}","kb_entry_version":1}}'},
    {"title": "No", "payload": f'/feedback{{"helpful":false,"kb_entry_id":"{OFFERED[0]}","kb_entry_version":1}}'}]


def send(stack, sender: str, message: str) -> list[dict]:
    """One message (or button payload) through Rasa's REST channel, with the conversation's desk token as the
    pipeline gives it; every element of the reply."""
    response = httpx.post(f"{stack.settings.rasa_url}/webhooks/rest/webhook", timeout=60, json={
        "sender": sender, "message": message, "metadata": {"desk_token": stack.settings.conversation_token(sender)}})
    assert response.status_code == 200
    return [{k: v for k, v in element.items() if k != "recipient_id"} for element in response.json()]


def query(stack, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(stack.settings.resolved_database_url.removeprefix("sqlite:///")) as connection:
        return connection.execute(sql, params).fetchall()


def test_an_ambiguous_question_gets_buttons_and_pressing_one_answers_with_that_entry(stack):
    sender = f"web-e2e-{uuid.uuid4().hex[:8]}"
    assert send(stack, sender, AMBIGUOUS) == [{"text": "Did you mean:", "buttons": [
        *({"title": DEMO[i]["question"], "payload": f'/choose_entry{{"kb_entry_id":"{i}"}}'} for i in OFFERED),
        {"title": "None of these", "payload": "/none_of_these"}]}]

    chosen = DEMO[OFFERED[0]]
    *paragraphs, last = f"{chosen['answer']}\n\nMore: {chosen['url']}".split("\n\n")
    assert send(stack, sender, f'/choose_entry{{"kb_entry_id":"{OFFERED[0]}"}}') == [
        *({"text": p} for p in paragraphs), {"text": f"{last}\nWas this helpful?", "buttons": FEEDBACK_BUTTONS},
        {"custom": {"citydesk": {"entry_id": OFFERED[0], "entry_version": 1}}}]
    assert query(stack, "SELECT route, reason, entry_id, text FROM message_decisions WHERE conversation_id = ? "
                 "ORDER BY id", sender) == [("clarify", "close entries: the citizen chooses", None, AMBIGUOUS),
                                            ("answer", "chosen from clarification", OFFERED[0], AMBIGUOUS)]

    # the vote goes to the desk, on the entry that answered
    [reply] = send(stack, sender, FEEDBACK_BUTTONS[1]["payload"])
    assert reply["text"].startswith("Sorry it didn't help.")
    assert query(stack, "SELECT entry_id, entry_version, channel, helpful FROM kb_feedback "
                 "WHERE conversation_id = ?", sender) == [(OFFERED[0], 1, "web", 0)]


def test_none_of_these_hands_the_original_question_to_a_person(stack):
    sender = f"web-e2e-{uuid.uuid4().hex[:8]}"
    send(stack, sender, AMBIGUOUS)
    text_element, metadata = send(stack, sender, "/none_of_these")
    number = metadata["custom"]["citydesk"]["case_id"]
    assert text_element["text"].startswith("I've passed this to ")
    assert f"as case {number}." in text_element["text"]
    # a plain information question: a simple case (3 hours), not an official's review
    assert query(stack, "SELECT description, sla FROM cases WHERE service_request_id = ?", number) == [
        (AMBIGUOUS, "simple")]


def test_an_automatic_answer_carries_its_entry_as_metadata_and_the_web_chat_never_shows_it(stack):
    entry = next(e for e in DEMO.values() if "library card" in e["question"].lower())
    elements = send(stack, f"web-e2e-{uuid.uuid4().hex[:8]}", "How do I get a library card?")
    assert elements[-1] == {"custom": {"citydesk": {"entry_id": entry["id"], "entry_version": 1}}}
    chat = httpx.post(f"{stack.settings.desk_url}/api/chat",
                      json={"sender": f"web-e2e-{uuid.uuid4().hex[:8]}", "message": "How do I get a library card?"},
                      timeout=60).json()
    assert [reply["text"] for reply in chat] == [entry["answer"], f"More: {entry['url']}\nWas this helpful?"]
