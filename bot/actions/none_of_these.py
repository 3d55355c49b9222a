"""action_none_of_these: none of the entries offered fits; the desk hands the original message to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.choose_entry import not_a_choice
from bot.actions.desk_client import DeskUnavailable, MessageRejected, decide_message, desk_token
from bot.actions.handle_message import say_decision
from bot.actions.replies import say_metadata
from bot.actions.settings import get_settings


class ActionNoneOfThese(Action):
    def name(self) -> str:
        return "action_none_of_these"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        token = desk_token(tracker)
        text = tracker.get_slot("clarify_text")
        if not text:  # nothing offered: typed text ("none of the bins were collected") may be a report
            return await not_a_choice(dispatcher, tracker, intent="none_of_these")
        try:
            decision = await decide_message(settings, token, text=text, conversation_id=tracker.sender_id, intent=None,
                                            declined=True)
        except (DeskUnavailable, MessageRejected):
            # the question stays pending: the citizen can press "None of these" again
            dispatcher.utter_message(text=messages.DESK_UNAVAILABLE.format(
                city_service_phone=settings.city_service_phone))
            say_metadata(dispatcher, unavailable="desk")  # not an answer: the connector tries again later
            return []
        return say_decision(dispatcher, decision, text=text, settings=settings)
