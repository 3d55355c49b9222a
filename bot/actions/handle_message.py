"""action_handle_message: the desk decides (answer, hand off, or out of scope); this says it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, decide_message
from bot.actions.settings import get_settings


def format_answer(hit: dict[str, Any]) -> str:
    """The entry's answer, with its source page when it has one."""
    return f"{hit['answer']}\n\nMore: {hit['url']}" if hit.get("url") else hit["answer"]


def format_case(case: dict[str, Any]) -> str:
    template = messages.POLICY_RECEIVED if case["sla"] == "policy" else messages.CASE_OPENED
    return template.format(department=case["department_name"], number=case["service_request_id"],
                           expected=case["expected_text"])


class ActionHandleMessage(Action):
    def name(self) -> str:
        return "action_handle_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            dispatcher.utter_message(text=messages.NO_TEXT)
            return [SlotSet("kb_entry_id", None)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        try:
            decision = await decide_message(settings, text=text, conversation_id=tracker.sender_id, intent=intent)
        except MessageRejected:
            dispatcher.utter_message(text=messages.MESSAGE_TOO_LONG)
            return [SlotSet("kb_entry_id", None)]
        except DeskUnavailable:
            dispatcher.utter_message(text=messages.DESK_UNAVAILABLE.format(
                city_service_phone=settings.city_service_phone))
            return [SlotSet("kb_entry_id", None)]
        route, case = decision["route"], decision.get("case")
        if route == "answer":
            dispatcher.utter_message(text=format_answer(decision["answer"]))
            return [SlotSet("kb_entry_id", decision["answer"]["id"])]
        if route == "emergency":
            dispatcher.utter_message(text=messages.EMERGENCY.format(emergency_number=settings.emergency_number))
            dispatcher.utter_message(text=messages.EMERGENCY_RECORDED.format(number=case["service_request_id"]))
            return [SlotSet("kb_entry_id", None), SlotSet("case_id", case["service_request_id"])]
        if route == "case":
            dispatcher.utter_message(text=format_case(case))
            return [SlotSet("kb_entry_id", None), SlotSet("case_id", case["service_request_id"])]
        dispatcher.utter_message(text=messages.OUT_OF_SCOPE)
        return [SlotSet("kb_entry_id", None)]
