"""action_refer_to_staff: what needs a person, said honestly until hand-off to departments exists."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.settings import get_settings


class ActionReferToStaff(Action):
    def name(self) -> str:
        return "action_refer_to_staff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        phone = get_settings().city_service_phone
        dispatcher.utter_message(text=messages.REFER_TO_STAFF.format(city_service_phone=phone))
        return []
