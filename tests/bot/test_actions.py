"""Each custom action with a tracker built from JSON, against the real desk; exact events and responses."""

from __future__ import annotations

import asyncio

from rasa_sdk.events import SlotSet

from bot.actions import messages
from bot.actions.answer_question import ActionAnswerQuestion
from bot.actions.emergency import ActionEmergency
from bot.actions.refer_to_staff import ActionReferToStaff
from bot.actions.settings import get_settings
from tests.bot.conftest import demo_entries, load_tracker


def run(action, dispatcher, tracker):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def only_message(dispatcher) -> dict:
    assert len(dispatcher.messages) == 1, dispatcher.messages
    return dispatcher.messages[0]


def test_action_names_match_the_domain():
    assert ActionAnswerQuestion().name() == "action_answer_question"
    assert ActionEmergency().name() == "action_emergency"
    assert ActionReferToStaff().name() == "action_refer_to_staff"


def test_a_knowledge_base_question_is_answered_with_the_entry_and_its_source(action_env, dispatcher):
    entry = next(e for e in demo_entries().values() if "library card" in e["question"].lower())
    events = run(ActionAnswerQuestion(), dispatcher, load_tracker("ask_question", text=entry["question"]))
    message = only_message(dispatcher)
    assert message["text"] == f"{entry['answer']}\n\nMore: {entry['url']}"
    assert message["response"] is None
    assert events == [SlotSet("kb_entry_id", entry["id"])]


def test_an_unanswerable_question_is_not_answered_and_says_so(action_env, dispatcher):
    events = run(ActionAnswerQuestion(), dispatcher,
                 load_tracker("ask_question", text="what's the best pizza topping in your opinion?"))
    assert only_message(dispatcher)["text"] == (
        "Sorry, I don't have an answer to that yet. City staff can help: call the city service line at "
        "(555) 010-0311.")
    assert events == [SlotSet("kb_entry_id", None)]


def test_a_message_without_text_asks_for_text(action_env, dispatcher):
    events = run(ActionAnswerQuestion(), dispatcher, load_tracker("ask_question", text="   "))
    assert only_message(dispatcher)["text"] == messages.NO_TEXT
    assert events == [SlotSet("kb_entry_id", None)]


def test_a_20000_character_message_gets_a_clear_reply(action_env, dispatcher):
    events = run(ActionAnswerQuestion(), dispatcher, load_tracker("ask_question", text="pothole " * 2500))
    assert only_message(dispatcher)["text"] == messages.MESSAGE_TOO_LONG
    assert events == [SlotSet("kb_entry_id", None)]


def test_when_the_desk_is_down_the_citizen_is_told_and_nothing_is_made_up(action_env, dispatcher, monkeypatch):
    from tests.bot.conftest import free_port

    monkeypatch.setenv("CITYDESK_DESK_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    events = run(ActionAnswerQuestion(), dispatcher, load_tracker("ask_question"))
    assert only_message(dispatcher)["text"] == messages.DESK_UNAVAILABLE
    assert events == [SlotSet("kb_entry_id", None)]


def test_an_emergency_gets_the_configured_emergency_number_at_once(action_env, dispatcher):
    events = run(ActionEmergency(), dispatcher, load_tracker("emergency"))
    assert only_message(dispatcher)["text"].startswith("If anyone is in danger, call 112 now.")
    assert events == []


def test_the_emergency_number_needs_no_desk(dispatcher, monkeypatch):
    monkeypatch.setenv("CITYDESK_DESK_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("CITYDESK_EMERGENCY_NUMBER", raising=False)
    get_settings.cache_clear()
    run(ActionEmergency(), dispatcher, load_tracker("emergency"))
    assert only_message(dispatcher)["text"].startswith("If anyone is in danger, call 911 now.")
    get_settings.cache_clear()


def test_a_problem_report_is_referred_honestly_with_the_service_line(action_env, dispatcher):
    events = run(ActionReferToStaff(), dispatcher, load_tracker("report_problem"))
    assert only_message(dispatcher)["text"] == messages.REFER_TO_STAFF.format(city_service_phone="(555) 010-0311")
    assert events == []
