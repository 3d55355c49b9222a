"""action_feedback: "Was this helpful?" answered; the vote goes to the desk, the citizen is thanked."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import DeskUnavailable, MessageRejected, desk_token, send_feedback
from bot.actions.settings import get_settings

log = logging.getLogger(__name__)


def helpful_vote(tracker: Tracker) -> bool | None:
    """The vote in the latest message's `helpful` entity (true/false, as JSON or text), or None."""
    value = next(tracker.get_latest_entity_values("helpful"), None)
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).strip().lower()) if value is not None else None


def voted_entry(tracker: Tracker) -> tuple[str | None, int | None]:
    """The entry (and version) the vote is on: the one the pressed button names, else the latest answer's."""
    entry_id = next(tracker.get_latest_entity_values("kb_entry_id"), None)
    if not entry_id:  # a vote typed, or a button from before buttons named their entry
        return tracker.get_slot("kb_entry_id"), tracker.get_slot("kb_entry_version")
    version = next(tracker.get_latest_entity_values("kb_entry_version"), None)
    return str(entry_id), _version(version)


def _version(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    return int(value) if isinstance(value, str) and value.strip().isdigit() and int(value) >= 1 else None


class ActionFeedback(Action):
    def name(self) -> str:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        settings = get_settings()
        helpful, (entry_id, version) = helpful_vote(tracker), voted_entry(tracker)
        if helpful is None:
            dispatcher.utter_message(text=messages.FEEDBACK_THANKS)
            return []
        if entry_id:
            try:
                await send_feedback(settings, desk_token(tracker), entry_id=entry_id, entry_version=version,
                                    conversation_id=tracker.sender_id, helpful=helpful)
            except (DeskUnavailable, MessageRejected) as error:
                # a lost vote is not worth troubling the citizen with
                log.warning("feedback on %s not recorded: %s", entry_id, error)
        dispatcher.utter_message(text=messages.FEEDBACK_THANKS if helpful else messages.FEEDBACK_SORRY)
        return []
