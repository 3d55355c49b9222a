"""Rasa's REST channel: one citizen message in, the assistant's reply elements out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from outbox.message import Button


class AssistantUnavailable(RuntimeError):
    """Rasa answered with an error, or without a reply (its action server down); the message stays pending."""


class AssistantDown(AssistantUnavailable):
    """Rasa could not be reached at all: every other message would fail the same way now."""


NO_REPLY = ("the assistant gave no reply (every rule of the bot says something: its action server or the desk "
            "is down)")


@dataclass(frozen=True)
class AssistantReply:
    """One message for the citizen, and the transcript metadata of the turn it belongs to."""

    text: str
    buttons: tuple[Button, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


async def ask(client: httpx.AsyncClient, rasa_url: str, *, sender: str, text: str,
              metadata: dict[str, Any]) -> list[AssistantReply]:
    """POST to the REST webhook; `custom.citydesk` elements become metadata of the turn's replies, never text."""
    try:
        response = await client.post(f"{rasa_url}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": text, "metadata": metadata})
        response.raise_for_status()
        elements = response.json()
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:
        raise AssistantDown(f"{type(error).__name__}: {error}") from error
    except (httpx.HTTPError, ValueError) as error:
        raise AssistantUnavailable(f"{type(error).__name__}: {error}") from error
    replies = replies_of(elements)
    # Rasa catches a failed custom action ("the actions events are lost") and answers 200 with what it has:
    # nothing, or an action's own "the desk is unavailable" (marked `unavailable`). Neither answers the citizen.
    if not replies:
        raise AssistantUnavailable(NO_REPLY)
    if unavailable := replies[0].meta.get("unavailable"):
        raise AssistantUnavailable(f"the assistant could not reach {unavailable}")
    return replies


async def reachable(client: httpx.AsyncClient, rasa_url: str) -> bool:
    """Whether Rasa answers its REST channel's health route (it does once its model is loaded)."""
    try:
        return (await client.get(f"{rasa_url}/webhooks/rest/", timeout=1.0)).status_code == 200
    except httpx.HTTPError:
        return False


def replies_of(elements: list[dict[str, Any]]) -> list[AssistantReply]:
    """The deliverable replies of a REST channel answer, each carrying the turn's citydesk metadata."""
    meta: dict[str, Any] = {}
    for element in elements:
        custom = element.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("citydesk"), dict):
            meta.update({k: v for k, v in custom["citydesk"].items() if v is not None})
    replies = []
    for element in elements:
        buttons = tuple(Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
                        for b in element.get("buttons") or [] if b.get("payload"))
        text = element.get("text") or ""
        if text or buttons:
            replies.append(AssistantReply(text=text, buttons=buttons, meta=meta))
    return replies
