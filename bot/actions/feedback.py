"""action_feedback: "Was this helpful?" answered; the vote goes to the desk, the citizen is thanked."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, send_feedback
from bot.actions.settings import get_settings

log = logging.getLogger(__name__)


def helpful_vote(tracker: Tracker) -> bool | None:
    """The vote in the latest message's `helpful` entity (true/false, as JSON or text), or None."""
    value = next(tracker.get_latest_entity_values("helpful"), None)
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).strip().lower()) if value is not None else None


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        helpful, entry_id = helpful_vote(tracker), tracker.get_slot("kb_entry_id")
        if helpful is None:
            dispatcher.utter_message(text=messages.FEEDBACK_THANKS)
            return []
        if entry_id:
            try:
                await send_feedback(settings, entry_id=entry_id, entry_version=tracker.get_slot("kb_entry_version"),
                                    conversation_id=tracker.sender_id, helpful=helpful)
            except (DeskUnavailable, MessageRejected) as error:
                # a lost vote is not worth troubling the citizen with
                log.warning("feedback on %s not recorded: %s", entry_id, error)
        dispatcher.utter_message(text=messages.FEEDBACK_THANKS if helpful else messages.FEEDBACK_SORRY)
        return []
