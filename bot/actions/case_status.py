"""action_case_status: what happened to the citizen's case, from the desk."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, case_status, desk_token
from bot.actions.replies import say_metadata
from bot.actions.settings import get_settings

MAX_CASES_SHOWN = 3


def format_status(case: dict[str, Any]) -> str:
    state = messages.STATE_TEXT.get(case["state"], case["state"]).format(expected=case["expected_text"])
    text = messages.CASE_STATUS.format(number=case["service_request_id"], department=case["department_name"],
                                       state=state)
    if case.get("status_notes") and case["state"] in ("answered", "closed"):
        text += "\n" + messages.LATEST_ANSWER.format(notes=case["status_notes"])
    return text


class ActionCaseStatus(Action):
    def name(self) -> str:
        return "action_case_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        text = tracker.latest_message.get("text") or ""
        try:
            cases = await case_status(settings, desk_token(tracker), conversation_id=tracker.sender_id, text=text)
        except (DeskUnavailable, MessageRejected):
            dispatcher.utter_message(text=messages.DESK_UNAVAILABLE.format(
                city_service_phone=settings.city_service_phone))
            say_metadata(dispatcher, unavailable="desk")  # not an answer: the connector tries again later
            return []
        if cases is None:
            dispatcher.utter_message(text=messages.NO_SUCH_CASE)
        elif not cases:
            dispatcher.utter_message(text=messages.NO_CASES)
        else:
            for case in cases[:MAX_CASES_SHOWN]:
                dispatcher.utter_message(text=format_status(case))
        return []
