"""The confirm band in the actions: an answer that asks "Did this answer your question?" with "Yes" and "No, ask a
person", the message kept for the "No"; then "No" hands it to a person and "Yes" teaches its words, through a real
desk process.

That desk is a desk of its own with set thresholds (an answer from 0.75, asked from 0.05), so that a paraphrase of a
demo entry lands in the confirm band; the session's desk, with its calibrated thresholds, is left as the other
tests know it."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.feedback import ActionFeedback
from bot.actions.handle_message import ActionHandleMessage, say_decision
from bot.actions.none_of_these import ActionNoneOfThese
from bot.actions.replies import feedback_buttons, feedback_payload, format_answer, say_answer
from bot.actions.settings import get_settings
from tests.bot.conftest import demo_entries, load_tracker, parse_payload, point_actions_at, running_desk

# A paraphrase of the demo's bulk pickup entry that its phrasings do not hold word for word.
COUCH = "who do I call to get rid of an old couch"
BULK = "demo-0002"
ASKED_REASON = "knowledge base answer in the confirm band: asks whether it answered"  # handoff/decide.py
CASE_NUMBER = re.compile(r"CD-\d{4}-\d{6}")
NO_CHOICE_PENDING = [SlotSet("clarify_text", None), SlotSet("clarify_options", None)]


def run(action: Any, dispatcher: CollectingDispatcher, tracker: Any) -> list[dict[str, Any]]:
    return asyncio.run(action.run(dispatcher, tracker, {}))


def shown(dispatcher: CollectingDispatcher) -> list[tuple[str, list[dict]]]:
    """What the citizen sees: each message's text and buttons (metadata elements left out)."""
    return [(m["text"], m["buttons"]) for m in dispatcher.messages if not m["custom"]]


def metadata(dispatcher: CollectingDispatcher) -> list[dict]:
    return [m["custom"] for m in dispatcher.messages if m["custom"]]


def asking_answer(entry: dict, version: int | None) -> list[tuple[str, list[dict]]]:
    """An answer of the confirm band as the citizen sees it: its paragraphs, the last with "Did this answer your
    question?", "Yes" (a helpful vote on the entry) and "No, ask a person" (none of these)."""
    *first, last = format_answer(entry).split("\n\n")
    return [*((part, []) for part in first),
            (f"{last}\n{messages.CONFIRM_QUESTION}",
             [{"title": "Yes", "payload": feedback_payload(True, entry["id"], version)},
              {"title": "No, ask a person", "payload": "/none_of_these"}])]


def query(database: Path, sql: str, *parameters: object) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, parameters).fetchall()


def decisions(database: Path, sender: str) -> list[tuple]:
    return query(database, "SELECT route, reason, entry_id, text FROM message_decisions WHERE conversation_id = ? "
                 "ORDER BY id", sender)


def candidates(database: Path, text: str) -> list[tuple]:
    return query(database, "SELECT entry_id, state, confirmations, rejections FROM kb_phrasing_candidates "
                 "WHERE text = ?", text)


@pytest.fixture(scope="module")
def confirm_desk(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A real desk whose thresholds put paraphrases of the demo entries in the confirm band; URL and database."""
    data_dir = tmp_path_factory.mktemp("confirm-desk")
    with running_desk(data_dir, CITYDESK_ANSWER_THRESHOLD="0.75", CITYDESK_CONFIRM_THRESHOLD="0.05") as url:
        yield url, data_dir / "citydesk.db"


@pytest.fixture
def confirm_env(confirm_desk, monkeypatch) -> Iterator[Path]:
    """The actions pointed at the confirm band's desk; its database."""
    point_actions_at(confirm_desk[0], monkeypatch)
    yield confirm_desk[1]
    get_settings.cache_clear()


# --- what the citizen sees (a decision as the desk sends it) ---------------------------------------------------

HIT = {"id": "demo-0042", "version": 3, "question": "Q?", "answer": "First paragraph.\n\nSecond paragraph.",
       "url": "https://www.alderbrook.example/page", "confidence": 0.5}


def test_an_answer_that_asks_shows_yes_and_no_ask_a_person_and_keeps_the_message(monkeypatch):
    monkeypatch.setenv("CITYDESK_INTERNAL_TOKEN", "unused")
    get_settings.cache_clear()
    dispatcher = CollectingDispatcher()
    events = say_decision(dispatcher, {"route": "answer", "ask": True, "answer": HIT, "case": None,
                                       "options": []}, text="some words", settings=get_settings())
    assert shown(dispatcher) == [
        ("First paragraph.", []),
        ("Second paragraph.", []),
        (f"More: https://www.alderbrook.example/page\n{messages.CONFIRM_QUESTION}", [
            {"title": "Yes", "payload": '/feedback{"helpful":true,"kb_entry_id":"demo-0042","kb_entry_version":3}'},
            {"title": "No, ask a person", "payload": "/none_of_these"}])]
    assert messages.CONFIRM_QUESTION == "Did this answer your question?"
    assert metadata(dispatcher) == [{"citydesk": {"entry_id": "demo-0042", "entry_version": 3}}]
    # the message is kept for "No, ask a person" (action_none_of_these hands it off)
    assert events == [SlotSet("kb_entry_id", "demo-0042"), SlotSet("kb_entry_version", 3),
                      SlotSet("clarify_text", "some words"), SlotSet("clarify_options", None)]
    get_settings.cache_clear()


def test_a_certain_answer_still_asks_was_this_helpful_and_keeps_nothing(monkeypatch):
    monkeypatch.setenv("CITYDESK_INTERNAL_TOKEN", "unused")
    get_settings.cache_clear()
    dispatcher = CollectingDispatcher()
    events = say_decision(dispatcher, {"route": "answer", "ask": False, "answer": HIT, "case": None,
                                       "options": []}, text="some words", settings=get_settings())
    assert shown(dispatcher)[-1] == (f"More: https://www.alderbrook.example/page\n{messages.FEEDBACK_QUESTION}",
                                     feedback_buttons("demo-0042", 3))
    assert events == [SlotSet("kb_entry_id", "demo-0042"), SlotSet("kb_entry_version", 3), *NO_CHOICE_PENDING]
    get_settings.cache_clear()


@pytest.mark.parametrize("reason", [messages.FOLLOW_UP_REASON, messages.ADDED_REASON])
def test_the_citizens_reply_or_new_information_is_added_to_the_case_not_a_new_one(monkeypatch, reason):
    monkeypatch.setenv("CITYDESK_INTERNAL_TOKEN", "unused")
    get_settings.cache_clear()
    dispatcher = CollectingDispatcher()
    case = {"service_request_id": "CD-2026-000007", "department_name": "Permits & Licensing", "sla": "simple",
            "expected_text": "by 11:00 AM tomorrow"}
    events = say_decision(dispatcher, {"route": "case", "reason": reason, "case": case,
                                       "answer": None, "options": []}, text="About 8 square metres",
                          settings=get_settings())
    assert [text for text, _ in shown(dispatcher)] == [
        "Thank you, I've added this to case CD-2026-000007. Permits & Licensing will answer by 11:00 AM tomorrow, "
        "through the same service you used to reach us."]
    assert events == [SlotSet("kb_entry_id", None), SlotSet("case_id", "CD-2026-000007"), *NO_CHOICE_PENDING]
    get_settings.cache_clear()


def test_the_buttons_payloads_survive_rasas_parsing():
    dispatcher = CollectingDispatcher()
    say_answer(dispatcher, HIT, ask=True)
    yes, no = next(m["buttons"] for m in dispatcher.messages if m["buttons"])
    parsed_yes = parse_payload(yes["payload"])
    assert parsed_yes["intent"]["name"] == "feedback"
    assert {e["entity"]: e["value"] for e in parsed_yes["entities"]} == {
        "helpful": True, "kb_entry_id": "demo-0042", "kb_entry_version": 3}
    assert parse_payload(no["payload"])["intent"]["name"] == "none_of_these"


# --- through the real desk --------------------------------------------------------------------------------------

def test_the_desk_answers_a_paraphrase_asking_and_no_ask_a_person_hands_it_to_a_person(confirm_env):
    database, sender = confirm_env, "web-confirm-no"
    asked = CollectingDispatcher()
    events = run(ActionHandleMessage(), asked, load_tracker("ask_question", sender=sender, text=COUCH))
    assert shown(asked) == asking_answer(demo_entries()[BULK], 1)
    assert events == [SlotSet("kb_entry_id", BULK), SlotSet("kb_entry_version", 1), SlotSet("clarify_text", COUCH),
                      SlotSet("clarify_options", None)]
    assert decisions(database, sender) == [("answer", ASKED_REASON, BULK, COUCH)]

    no_payload = shown(asked)[-1][1][1]["payload"]
    handed = CollectingDispatcher()
    events = run(ActionNoneOfThese(), handed, load_tracker(
        "none_of_these", sender=sender, slots={"clarify_text": COUCH, "clarify_options": None,
                                               "kb_entry_id": BULK}, **parse_payload(no_payload)))
    [(text, buttons)] = shown(handed)
    number = CASE_NUMBER.search(text).group(0)
    assert text.startswith(f"I've passed this to Waste & Recycling as case {number}. ")
    assert buttons == []
    assert metadata(handed) == [{"citydesk": {"case_id": number}}]
    assert events == [SlotSet("kb_entry_id", None), SlotSet("case_id", number), *NO_CHOICE_PENDING]
    assert decisions(database, sender)[-1] == ("case", "none of the entries offered fits", None, COUCH)
    assert query(database, "SELECT description, conversation_id FROM cases WHERE service_request_id = ?",
                 number) == [(COUCH, sender)]
    # the "No" counts against the words as a phrasing of the entry
    assert candidates(database, COUCH) == [(BULK, "pending", 0, 1)]


def test_yes_records_a_vote_and_the_words_as_a_candidate_phrasing(confirm_env):
    database, sender = confirm_env, "web-confirm-yes"
    text = "who hauls away a broken old fridge"
    asked = CollectingDispatcher()
    run(ActionHandleMessage(), asked, load_tracker("ask_question", sender=sender, text=text))
    [(_, [yes, _no])] = [m for m in shown(asked) if m[1]]
    assert decisions(database, sender)[-1][:2] == ("answer", ASKED_REASON)
    entry_id = decisions(database, sender)[-1][2]
    thanked = CollectingDispatcher()
    run(ActionFeedback(), thanked, load_tracker("feedback", sender=sender, slots={"kb_entry_id": entry_id},
                                                **parse_payload(yes["payload"])))
    assert shown(thanked) == [(messages.FEEDBACK_THANKS, [])]
    assert query(database, "SELECT entry_id, helpful FROM kb_feedback WHERE conversation_id = ?", sender) == [
        (entry_id, 1)]
    assert candidates(database, text) == [(entry_id, "pending", 1, 0)]
    assert query(database, "SELECT c.source FROM kb_phrasing_confirmations c JOIN kb_phrasing_candidates p "
                 "ON p.id = c.candidate_id WHERE p.text = ?", text) == [("confirm",)]
