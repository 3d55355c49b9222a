"""action_emergency: the emergency number at once, then a flagged case and the duty officer alerted."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, decide_message, desk_token
from bot.actions.replies import say_metadata
from bot.actions.settings import get_settings


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        # The number first, whatever happens next: it must not wait for, or depend on, the desk.
        dispatcher.utter_message(text=messages.EMERGENCY.format(emergency_number=settings.emergency_number))
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            return []
        try:
            decision = await decide_message(settings, desk_token(tracker), text=text, conversation_id=tracker.sender_id,
                                            intent="emergency")
        except (DeskUnavailable, MessageRejected):
            return []
        number = decision["case"]["service_request_id"]
        dispatcher.utter_message(text=messages.EMERGENCY_RECORDED.format(number=number))
        say_metadata(dispatcher, case_id=number)
        return [SlotSet("case_id", number)]
