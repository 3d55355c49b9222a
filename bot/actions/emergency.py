"""action_emergency: the emergency number at once, whatever else is going on."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.settings import get_settings


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=messages.EMERGENCY.format(emergency_number=get_settings().emergency_number))
        return []
