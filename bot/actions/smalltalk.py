"""action_smalltalk: a greeting, thanks or goodbye, unless the message also brings a matter for the city.

"The swing in Maple Park is broken. Thanks, Dana Whitfield" reads as thanks to the classifier; the desk sees the
report in it and decides on it like any report. Courtesy alone gets the domain's reply for its intent.
"""

from __future__ import annotations

import random
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, decide_message, desk_token
from bot.actions.handle_message import respond
from bot.actions.replies import say_metadata
from bot.actions.settings import get_settings


def courtesy(intent: str | None) -> str:
    """The reply to a greeting, thanks or goodbye alone (a greeting's for anything else)."""
    return random.choice(messages.SMALLTALK.get(intent or "", messages.SMALLTALK["greet"]))


class ActionSmalltalk(Action):
    def name(self) -> str:
        return "action_smalltalk"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        token = desk_token(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            dispatcher.utter_message(text=courtesy(intent))
            return []
        try:
            decision = await decide_message(settings, token, text=text,
                                            conversation_id=tracker.sender_id, intent=intent)
            if decision["route"] == "smalltalk":
                dispatcher.utter_message(text=courtesy(intent))
                return []
            return await respond(dispatcher, decision, text=text, settings=settings, token=token,
                                 conversation_id=tracker.sender_id)
        except MessageRejected:
            dispatcher.utter_message(text=messages.MESSAGE_TOO_LONG)
        except DeskUnavailable:
            # the message may carry a report: say that it did not reach the city rather than "you're welcome"
            dispatcher.utter_message(text=messages.DESK_UNAVAILABLE.format(
                city_service_phone=settings.city_service_phone))
            say_metadata(dispatcher, unavailable="desk")  # not an answer: the connector tries again later
        return []
