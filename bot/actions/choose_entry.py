"""action_choose_entry: the citizen picked one of the entries offered ("Did you mean …?"); answer with it."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, choose_entry, decide_message, desk_token
from bot.actions.handle_message import NO_CHOICE_PENDING, respond, say_decision
from bot.actions.replies import say_answer, say_metadata
from bot.actions.settings import get_settings

# A typed choice ("the second one", "3") on a channel whose buttons the citizen did not use.
_ORDINALS = {"1": 0, "1st": 0, "first": 0, "2": 1, "2nd": 1, "second": 1, "3": 2, "3rd": 2, "third": 2}
# Typed text this long that chose nothing may be a report the classifier took for a choice: the desk decides.
MIN_REPORT_WORDS = 5
_ORDINAL = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b", re.IGNORECASE)


def chosen_entry(tracker: Tracker) -> str | None:
    """The entry the latest message chose: the button's kb_entry_id, else a typed position among those offered."""
    entity = next(tracker.get_latest_entity_values("kb_entry_id"), None)
    if entity:
        return str(entity)
    offered = tracker.get_slot("clarify_options") or []
    match = _ORDINAL.search(tracker.latest_message.get("text") or "")
    position = _ORDINALS[match.group(1).lower()] if match else None
    return offered[position] if position is not None and position < len(offered) else None


async def not_a_choice(dispatcher: CollectingDispatcher, tracker: Tracker, *,
                       intent: str) -> list[dict[str, Any]]:
    """Typed text that chose nothing: a report the classifier took for a choice goes to the desk like any."""
    settings = get_settings()
    token = desk_token(tracker)
    typed = (tracker.latest_message.get("text") or "").strip()
    # a button's payload is never a report, nor a short choice ("2", "the second one please", "none of these")
    if not typed.startswith("/") and len(typed.split()) >= MIN_REPORT_WORDS:
        try:
            decision = await decide_message(settings, token, text=typed, conversation_id=tracker.sender_id,
                                            intent=intent)
            if decision["route"] != "smalltalk":
                return await respond(dispatcher, decision, text=typed, settings=settings, token=token,
                                     conversation_id=tracker.sender_id)
        except (DeskUnavailable, MessageRejected):
            pass  # nothing was chosen: that is the reply
    dispatcher.utter_message(text=messages.NO_PENDING_CHOICE)
    return NO_CHOICE_PENDING


class ActionChooseEntry(Action):
    def name(self) -> str:
        return "action_choose_entry"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        token = desk_token(tracker)
        text, entry_id = tracker.get_slot("clarify_text"), chosen_entry(tracker)
        if not entry_id:
            return await not_a_choice(dispatcher, tracker, intent="choose_entry")
        try:
            # No pending question: an old button pressed later still names its entry, which answers on its own
            decision = await choose_entry(settings, token, text=text or None, conversation_id=tracker.sender_id,
                                          entry_id=entry_id)
            if decision is None and not text:
                dispatcher.utter_message(text=messages.NO_PENDING_CHOICE)
                return NO_CHOICE_PENDING
            if decision is None:  # the entry left the knowledge base since it was offered: a person answers
                decision = await decide_message(settings, token, text=text, conversation_id=tracker.sender_id,
                                                intent=None, declined=True)
                return say_decision(dispatcher, decision, text=text, settings=settings)
        except (DeskUnavailable, MessageRejected):
            dispatcher.utter_message(text=messages.DESK_UNAVAILABLE.format(
                city_service_phone=settings.city_service_phone))
            say_metadata(dispatcher, unavailable="desk")  # not an answer: the connector tries again later
            return []
        say_answer(dispatcher, decision["answer"])
        return [SlotSet("kb_entry_id", entry_id), SlotSet("kb_entry_version", decision["answer"].get("version")),
                *NO_CHOICE_PENDING]
