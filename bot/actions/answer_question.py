"""action_answer_question: answer from the knowledge base, or say honestly that it cannot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

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
            dispatcher.utter_message(response="utter_no_text")
            return [SlotSet("kb_entry_id", None)]
        try:
            decision = await search_knowledge_base(get_settings(), text)
        except MessageRejected:
            dispatcher.utter_message(response="utter_message_too_long")
            return [SlotSet("kb_entry_id", None)]
        except DeskUnavailable:
            dispatcher.utter_message(response="utter_desk_unavailable")
            return [SlotSet("kb_entry_id", None)]
        hit = decision.get("answer")
        if hit is None:
            dispatcher.utter_message(response="utter_cannot_answer_yet",
                                     city_service_phone=get_settings().city_service_phone)
            return [SlotSet("kb_entry_id", None)]
        dispatcher.utter_message(text=format_answer(hit))
        return [SlotSet("kb_entry_id", hit["id"])]
