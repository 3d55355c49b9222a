"""Each custom action with a tracker built from JSON, against the real desk; exact events and texts."""

from __future__ import annotations

import asyncio
import re

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.case_status import ActionCaseStatus, format_status
from bot.actions.choose_entry import ActionChooseEntry
from bot.actions.emergency import ActionEmergency
from bot.actions.feedback import ActionFeedback
from bot.actions.handle_message import ActionHandleMessage
from bot.actions.none_of_these import ActionNoneOfThese
from bot.actions.replies import feedback_buttons, format_case
from bot.actions.settings import get_settings
from tests.bot.conftest import demo_entries, load_tracker
from tests.support import free_port

CASE_NUMBER = re.compile(r"CD-\d{4}-\d{6}")


def run(action, dispatcher, tracker):
    return asyncio.run(action.run(dispatcher, tracker, {}))


def texts(dispatcher) -> list[str]:
    """What the citizen reads (the transcript metadata is not for them)."""
    return [m["text"] for m in dispatcher.messages if not m["custom"]]


def metadata(dispatcher) -> list[dict]:
    """The transcript metadata the action sent (json_message elements)."""
    return [m["custom"] for m in dispatcher.messages if m["custom"]]


NO_CHOICE_PENDING = [SlotSet("clarify_text", None), SlotSet("clarify_options", None)]


def test_action_names_match_the_domain():
    assert ActionHandleMessage().name() == "action_handle_message"
    assert ActionEmergency().name() == "action_emergency"
    assert ActionCaseStatus().name() == "action_case_status"
    assert ActionChooseEntry().name() == "action_choose_entry"
    assert ActionNoneOfThese().name() == "action_none_of_these"
    assert ActionFeedback().name() == "action_feedback"


def test_a_knowledge_base_question_is_answered_with_the_entry_and_its_source(action_env, dispatcher):
    entry = next(e for e in demo_entries().values() if "library card" in e["question"].lower())
    events = run(ActionHandleMessage(), dispatcher, load_tracker("ask_question", text=entry["question"]))
    assert texts(dispatcher) == [entry["answer"], f"More: {entry['url']}\nWas this helpful?"]
    assert [m["buttons"] for m in dispatcher.messages] == [[], feedback_buttons(entry["id"], 1), []]
    assert dispatcher.messages[1]["buttons"][0]["payload"] == (
        '/feedback{"helpful":true,"kb_entry_id":"' + entry["id"] + '","kb_entry_version":1}')
    # the demo entries are in their first published version
    assert metadata(dispatcher) == [{"citydesk": {"entry_id": entry["id"], "entry_version": 1}}]
    assert events == [SlotSet("kb_entry_id", entry["id"]), SlotSet("kb_entry_version", 1), *NO_CHOICE_PENDING]


def test_an_off_topic_question_gets_a_polite_pointer_and_no_case(action_env, dispatcher):
    events = run(ActionHandleMessage(), dispatcher, load_tracker(
        "ask_question", text="what's the best pizza topping in your opinion?",
        intent={"name": "out_of_scope", "confidence": 0.9}))
    assert texts(dispatcher) == [messages.OUT_OF_SCOPE]
    assert metadata(dispatcher) == []
    assert events == [SlotSet("kb_entry_id", None), *NO_CHOICE_PENDING]


def test_a_problem_report_opens_a_case_and_says_its_number_department_and_deadline(action_env, dispatcher):
    events = run(ActionHandleMessage(), dispatcher, load_tracker("report_problem"))
    [text] = texts(dispatcher)
    number = CASE_NUMBER.search(text).group(0)
    assert text.startswith(f"I've passed this to Public Works as case {number}. You can expect an answer by ")
    assert text.endswith(", through the same service you used to reach us.")
    assert metadata(dispatcher) == [{"citydesk": {"case_id": number}}]
    assert events == [SlotSet("kb_entry_id", None), SlotSet("case_id", number), *NO_CHOICE_PENDING]


@pytest.mark.parametrize("sla", ["simple", "review", "policy"])
def test_a_case_message_promises_no_chat_a_channel_may_not_have(sla):
    """On X a case opened from a public post is answered by direct message: "here in this chat" would be false."""
    text = format_case({"sla": sla, "department_name": "Parks", "service_request_id": "CD-2026-000001",
                        "expected_text": "by 4:30 PM today"})
    assert "CD-2026-000001" in text and "Parks" in text
    assert text.endswith("by 4:30 PM today, through the same service you used to reach us.")
    assert "chat" not in text


def test_the_status_of_the_conversations_case_is_read_from_the_desk(action_env, dispatcher):
    run(ActionHandleMessage(), dispatcher, load_tracker("report_problem", sender="web-status-check"))
    number = CASE_NUMBER.search(texts(dispatcher)[0]).group(0)
    status = CollectingDispatcher()
    run(ActionCaseStatus(), status, load_tracker("report_problem", sender="web-status-check",
                                                 text="any update on my report?",
                                                 intent={"name": "check_case_status", "confidence": 0.9}))
    [text] = texts(status)
    assert text.startswith(f"Case {number} is with Public Works: received, waiting for an officer; "
                           "expect an answer by ")


def test_a_case_whose_answer_is_in_review_is_told_in_words_not_by_its_state_name():
    text = format_status({"state": "in_review", "service_request_id": "CD-2026-000001", "status_notes": None,
                          "department_name": "Permits & Licensing", "expected_text": "by 4:30 PM today"})
    assert text == ("Case CD-2026-000001 is with Permits & Licensing: an officer has drafted an answer, which is "
                    "being checked before it is sent; expect an answer by 4:30 PM today.")


def test_an_unknown_case_number_is_said_to_be_unknown(action_env, dispatcher):
    run(ActionCaseStatus(), dispatcher, load_tracker("report_problem", text="status of CD-1999-999999 pls"))
    assert texts(dispatcher) == [messages.NO_SUCH_CASE]


def test_a_message_without_text_asks_for_text(action_env, dispatcher):
    events = run(ActionHandleMessage(), dispatcher, load_tracker("ask_question", text="   "))
    assert texts(dispatcher) == [messages.NO_TEXT]
    assert events == [SlotSet("kb_entry_id", None)]


def test_a_20000_character_message_gets_a_clear_reply(action_env, dispatcher):
    events = run(ActionHandleMessage(), dispatcher, load_tracker("ask_question", text="pothole " * 2500))
    assert texts(dispatcher) == [messages.MESSAGE_TOO_LONG]
    assert events == [SlotSet("kb_entry_id", None)]


def test_when_the_desk_is_down_the_citizen_is_told_and_nothing_is_made_up(action_env, dispatcher, monkeypatch):
    monkeypatch.setenv("CITYDESK_DESK_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    events = run(ActionHandleMessage(), dispatcher, load_tracker("ask_question"))
    assert texts(dispatcher) == [messages.DESK_UNAVAILABLE.format(city_service_phone="(555) 010-0311")]
    assert events == [SlotSet("kb_entry_id", None)]


def test_an_emergency_gets_the_number_first_then_a_flagged_case(action_env, dispatcher):
    events = run(ActionEmergency(), dispatcher, load_tracker("emergency"))
    first, second = texts(dispatcher)
    assert first.startswith("If anyone is in danger, call 112 now.")
    number = CASE_NUMBER.search(second).group(0)
    assert second == messages.EMERGENCY_RECORDED.format(number=number)
    assert metadata(dispatcher) == [{"citydesk": {"case_id": number}}]
    assert events == [SlotSet("case_id", number)]


def test_the_emergency_number_needs_no_desk(dispatcher, monkeypatch):
    monkeypatch.setenv("CITYDESK_DESK_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("CITYDESK_EMERGENCY_NUMBER", raising=False)
    get_settings.cache_clear()
    events = run(ActionEmergency(), dispatcher, load_tracker("emergency"))
    # the same words go out on every channel (web chat, Telegram, X direct messages): no "this chat"
    assert texts(dispatcher) == ["If anyone is in danger, call 911 now. This account is not monitored for "
                                 "emergencies and cannot send help."]
    assert events == []
    get_settings.cache_clear()



def test_with_a_wrong_internal_token_the_desk_refuses_and_the_citizen_is_told(action_env, dispatcher, monkeypatch):
    monkeypatch.setenv("CITYDESK_INTERNAL_TOKEN", "not-the-desks-token")
    get_settings.cache_clear()
    events = run(ActionHandleMessage(), dispatcher, load_tracker("report_problem", sender="web-wrong-token"))
    assert texts(dispatcher) == [messages.DESK_UNAVAILABLE.format(city_service_phone="(555) 010-0311")]
    assert events == [SlotSet("kb_entry_id", None)]


def test_without_the_internal_token_a_case_status_is_not_revealed(action_env, dispatcher, monkeypatch):
    monkeypatch.delenv("CITYDESK_INTERNAL_TOKEN")
    get_settings.cache_clear()
    events = run(ActionCaseStatus(), dispatcher, load_tracker("report_problem", text="any update on my report?"))
    assert texts(dispatcher) == [messages.DESK_UNAVAILABLE.format(city_service_phone="(555) 010-0311")]
    assert events == []
