"""action_handle_message: the desk decides (answer, ask which entry, hand off, or out of scope); this says it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, decide_message, desk_token
from bot.actions.replies import choice_buttons, format_answer, format_case, say_answer, say_metadata
from bot.actions.settings import ActionSettings, get_settings
from bot.actions.status import say_status

__all__ = ["ActionHandleMessage", "format_answer", "format_case", "respond", "say_decision"]

NO_CHOICE_PENDING = [SlotSet("clarify_text", None), SlotSet("clarify_options", None)]


def say_decision(dispatcher: CollectingDispatcher, decision: dict[str, Any], *, text: str,
                 settings: ActionSettings) -> list[dict[str, Any]]:
    """Tell the citizen the desk's decision on `text`; the slot events that remember it."""
    route, case = decision["route"], decision.get("case")
    if route == "answer":
        ask = bool(decision.get("ask"))
        say_answer(dispatcher, decision["answer"], ask=ask)
        # an answer that asks keeps its message: "No, ask a person" hands it off (action_none_of_these)
        pending = [SlotSet("clarify_text", text), SlotSet("clarify_options", None)] if ask else NO_CHOICE_PENDING
        return [SlotSet("kb_entry_id", decision["answer"]["id"]),
                SlotSet("kb_entry_version", decision["answer"].get("version")), *pending]
    if route == "clarify":
        dispatcher.utter_message(text=messages.CLARIFY, buttons=choice_buttons(decision["options"]))
        return [SlotSet("kb_entry_id", None), SlotSet("clarify_text", text),
                SlotSet("clarify_options", [o["id"] for o in decision["options"]])]
    if route == "emergency":
        dispatcher.utter_message(text=messages.EMERGENCY.format(emergency_number=settings.emergency_number))
        dispatcher.utter_message(text=messages.EMERGENCY_RECORDED.format(number=case["service_request_id"]))
        say_metadata(dispatcher, case_id=case["service_request_id"])
        return [SlotSet("kb_entry_id", None), SlotSet("case_id", case["service_request_id"]), *NO_CHOICE_PENDING]
    if route == "case":
        # the reply to the officer's question, or more about the open case: added to it, no new case
        follow_up = decision.get("reason") in (messages.FOLLOW_UP_REASON, messages.ADDED_REASON)
        dispatcher.utter_message(text=messages.FOLLOW_UP_ADDED.format(
            number=case["service_request_id"], department=case["department_name"], expected=case["expected_text"])
            if follow_up else format_case(case))
        say_metadata(dispatcher, case_id=case["service_request_id"])
        return [SlotSet("kb_entry_id", None), SlotSet("case_id", case["service_request_id"]), *NO_CHOICE_PENDING]
    dispatcher.utter_message(text=messages.OUT_OF_SCOPE)
    return [SlotSet("kb_entry_id", None), *NO_CHOICE_PENDING]


async def respond(dispatcher: CollectingDispatcher, decision: dict[str, Any], *, text: str, settings: ActionSettings,
                  token: str | None,
                  conversation_id: str) -> list[dict[str, Any]]:
    """Say the desk's decision, a case's status included ("is it fixed yet?": the case it asks after).

    Raises DeskUnavailable, MessageRejected (a status looked up by case number)."""
    if decision["route"] == "status":
        await say_status(dispatcher, settings, token,
                         conversation_id=conversation_id, text=text, case=decision.get("case"))
        return []
    return say_decision(dispatcher, decision, text=text, settings=settings)


class ActionHandleMessage(Action):
    def name(self) -> str:
        return "action_handle_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        token = desk_token(tracker)
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            dispatcher.utter_message(text=messages.NO_TEXT)
            return [SlotSet("kb_entry_id", None)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        try:
            decision = await decide_message(settings, token, text=text,
                                            conversation_id=tracker.sender_id, intent=intent)
            return await respond(dispatcher, decision, text=text, settings=settings, token=token,
                                 conversation_id=tracker.sender_id)
        except MessageRejected:
            dispatcher.utter_message(text=messages.MESSAGE_TOO_LONG)
            return [SlotSet("kb_entry_id", None)]
        except DeskUnavailable:
            dispatcher.utter_message(text=messages.DESK_UNAVAILABLE.format(
                city_service_phone=settings.city_service_phone))
            say_metadata(dispatcher, unavailable="desk")  # not an answer: the connector tries again later
            return [SlotSet("kb_entry_id", None)]
