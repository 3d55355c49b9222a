"""action_case_status: what happened to the citizen's case, from the desk.

The desk decides first: a message the classifier took for a status check may be a report ("loud music next door
every night, call me at 303-555-0199": the phone number's digits look like a case number); it is handled as one.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, decide_message, desk_token
from bot.actions.handle_message import respond
from bot.actions.replies import say_metadata
from bot.actions.settings import get_settings
from bot.actions.status import MAX_CASES_SHOWN, format_status, say_status

__all__ = ["MAX_CASES_SHOWN", "ActionCaseStatus", "format_status"]


class ActionCaseStatus(Action):
    def name(self) -> str:
        return "action_case_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        token = desk_token(tracker)
        text = (tracker.latest_message.get("text") or "").strip()
        try:
            if not text:
                await say_status(dispatcher, settings, token, conversation_id=tracker.sender_id, text=text)
                return []
            decision = await decide_message(settings, token, text=text, conversation_id=tracker.sender_id,
                                            intent="check_case_status")
            return await respond(dispatcher, decision, text=text, settings=settings, token=token,
                                 conversation_id=tracker.sender_id)
        except (DeskUnavailable, MessageRejected):
            dispatcher.utter_message(text=messages.DESK_UNAVAILABLE.format(
                city_service_phone=settings.city_service_phone))
            say_metadata(dispatcher, unavailable="desk")  # not an answer: the connector tries again later
            return []
