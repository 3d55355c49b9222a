"""How the actions tell a case's status: the case the desk found the message asking after, or the cases it names."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages
from bot.actions.desk_client import case_status
from bot.actions.settings import ActionSettings

MAX_CASES_SHOWN = 3


def format_status(case: dict[str, Any]) -> str:
    state = messages.STATE_TEXT.get(case["state"], case["state"]).format(expected=case["expected_text"])
    text = messages.CASE_STATUS.format(number=case["service_request_id"], department=case["department_name"],
                                       state=state)
    if case.get("status_notes") and case["state"] in ("answered", "closed"):
        text += "\n" + messages.LATEST_ANSWER.format(notes=case["status_notes"])
    return text


async def say_status(dispatcher: CollectingDispatcher, settings: ActionSettings, token: str | None, *,
                     conversation_id: str, text: str,
                     case: dict[str, Any] | None = None) -> None:
    """Tell the status of `case` (the open case a follow-up asks after), else of the cases the message asks about:
    the one its case number names, or the conversation's. Raises DeskUnavailable, MessageRejected."""
    if case is not None:
        dispatcher.utter_message(text=format_status(case))
        return
    cases = await case_status(settings, token, conversation_id=conversation_id, text=text)
    if cases is None:
        dispatcher.utter_message(text=messages.NO_SUCH_CASE)
    elif not cases:
        dispatcher.utter_message(text=messages.NO_CASES)
    else:
        for found in cases[:MAX_CASES_SHOWN]:
            dispatcher.utter_message(text=format_status(found))
