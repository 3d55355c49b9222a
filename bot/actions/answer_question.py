"""action_answer_question: answer from the knowledge base, or say honestly that it cannot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, search_knowledge_base
from bot.actions.settings import get_settings


def format_answer(hit: dict[str, Any]) -> str:
    """The entry's answer, with its source page when it has one."""
    return f"{hit['answer']}\n\nMore: {hit['url']}" if hit.get("url") else hit["answer"]


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            dispatcher.utter_message(text=messages.NO_TEXT)
            return [SlotSet("kb_entry_id", None)]
        try:
            decision = await search_knowledge_base(get_settings(), text)
        except MessageRejected:
            dispatcher.utter_message(text=messages.MESSAGE_TOO_LONG)
            return [SlotSet("kb_entry_id", None)]
        except DeskUnavailable:
            dispatcher.utter_message(text=messages.DESK_UNAVAILABLE)
            return [SlotSet("kb_entry_id", None)]
        hit = decision.get("answer")
        if hit is None:
            phone = get_settings().city_service_phone
            dispatcher.utter_message(text=messages.CANNOT_ANSWER_YET.format(city_service_phone=phone))
            return [SlotSet("kb_entry_id", None)]
        dispatcher.utter_message(text=format_answer(hit))
        return [SlotSet("kb_entry_id", hit["id"])]
