"""How the actions say the desk's decisions: answers with feedback buttons, choices, cases, transcript metadata."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions import messages

NONE_OF_THESE_PAYLOAD = "/none_of_these"


def format_answer(hit: dict[str, Any]) -> str:
    """The entry's answer, with its source page when it has one."""
    return f"{hit['answer']}\n\nMore: {hit['url']}" if hit.get("url") else hit["answer"]


def format_case(case: dict[str, Any]) -> str:
    template = messages.POLICY_RECEIVED if case["sla"] == "policy" else messages.CASE_OPENED
    return template.format(department=case["department_name"], number=case["service_request_id"],
                           expected=case["expected_text"])


def choose_payload(entry_id: str) -> str:
    """The payload of the button that chooses an entry: '/choose_entry{"kb_entry_id":"<id>"}'."""
    return "/choose_entry" + json.dumps({"kb_entry_id": entry_id}, separators=(",", ":"))


def feedback_payload(helpful: bool, entry_id: str, version: int | None) -> str:
    """'/feedback{"helpful":true,"kb_entry_id":"<id>","kb_entry_version":<n>}': the vote and the answer it is on.

    The button names its answer so that pressing it under an older answer votes for that one. Longer than
    Telegram's 64 bytes of callback data: the connectors send such payloads by a stored short key.
    """
    vote: dict[str, Any] = {"helpful": helpful, "kb_entry_id": entry_id}
    if version is not None:
        vote["kb_entry_version"] = version
    return "/feedback" + json.dumps(vote, separators=(",", ":"))


def feedback_buttons(entry_id: str, version: int | None) -> list[dict[str, str]]:
    """"Yes" and "No" under an answer from entry `entry_id` (in `version`)."""
    return [{"title": messages.FEEDBACK_YES, "payload": feedback_payload(True, entry_id, version)},
            {"title": messages.FEEDBACK_NO, "payload": feedback_payload(False, entry_id, version)}]


def confirm_buttons(entry_id: str, version: int | None) -> list[dict[str, str]]:
    """"Yes" (a vote that confirms the answer) and "No, ask a person" (the message goes to staff at once)."""
    return [{"title": messages.FEEDBACK_YES, "payload": feedback_payload(True, entry_id, version)},
            {"title": messages.CONFIRM_NO, "payload": NONE_OF_THESE_PAYLOAD}]


def choice_buttons(options: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One button per offered entry (its question), then "None of these"."""
    return [*({"title": o["question"], "payload": choose_payload(o["id"])} for o in options),
            {"title": messages.NONE_OF_THESE, "payload": NONE_OF_THESE_PAYLOAD}]


def say_metadata(dispatcher: CollectingDispatcher, **fields: Any) -> None:
    """The turn's transcript metadata (entry, version, case), for the connectors; never shown to the citizen."""
    present = {key: value for key, value in fields.items() if value is not None}
    if present:
        dispatcher.utter_message(json_message={"citydesk": present})


def say_answer(dispatcher: CollectingDispatcher, hit: dict[str, Any], *, ask: bool = False) -> None:
    """The answer, paragraph by paragraph; "Was this helpful?" and its buttons ride on the last paragraph, or,
    for a less certain answer (`ask`), "Did this answer your question?" with "Yes" and "No, ask a person".

    Rasa's REST channel splits a plain text on blank lines but not a text with buttons, so the paragraphs are
    sent one by one here: every channel gets the same messages.
    """
    *first, last = [part for part in format_answer(hit).strip().split("\n\n") if part.strip()]
    for part in first:
        dispatcher.utter_message(text=part)
    if ask:
        dispatcher.utter_message(text=f"{last}\n{messages.CONFIRM_QUESTION}",
                                 buttons=confirm_buttons(hit["id"], hit.get("version")))
    else:
        dispatcher.utter_message(text=f"{last}\n{messages.FEEDBACK_QUESTION}",
                                 buttons=feedback_buttons(hit["id"], hit.get("version")))
    say_metadata(dispatcher, entry_id=hit["id"], entry_version=hit.get("version"))
