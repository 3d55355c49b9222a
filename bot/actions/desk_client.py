"""HTTP client of the desk service's API, for the actions.

Every call carries the desk token of the conversation the action runs in (`desk_token`): the desk's pipeline put it
in the message's metadata, and the desk accepts it for that conversation only (desk/api/internal_auth.py).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from rasa_sdk import Tracker

from bot.actions.settings import ActionSettings

log = logging.getLogger(__name__)


class DeskUnavailable(Exception):
    """The desk could not be reached or failed; the citizen is told so, nothing is made up."""


class MessageRejected(Exception):
    """The desk refused the message itself (empty or too long)."""


def desk_token(tracker: Tracker) -> str | None:
    """The conversation's desk token: in the metadata of the latest user message that carried one."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if isinstance(metadata, dict) and isinstance(metadata.get("desk_token"), str):
        return metadata["desk_token"]
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        metadata = event.get("metadata") or {}
        if isinstance(metadata, dict) and isinstance(metadata.get("desk_token"), str):
            return metadata["desk_token"]
    return None


async def _call(settings: ActionSettings, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
    if not token:
        log.error("No desk token in the message's metadata: the desk's pipeline gives Rasa one per conversation")
        raise DeskUnavailable("no desk token for this conversation")
    timeout = aiohttp.ClientTimeout(total=settings.desk_timeout_s)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session, \
                session.request(method, f"{settings.desk_url}{path}", **kwargs) as response:
            if response.status == 422:
                raise MessageRejected(await response.text())
            if response.status == 404:
                return None
            if response.status in (401, 403):
                log.error("The desk refused the conversation's token (%s): %s", response.status,
                          (await response.text())[:300])
                raise DeskUnavailable("the desk refused the conversation's token")
            if response.status not in (200, 201):
                raise DeskUnavailable(f"desk answered {response.status}")
            return await response.json()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DeskUnavailable(str(error)) from error


async def decide_message(settings: ActionSettings, token: str | None, *, text: str, conversation_id: str,
                         intent: str | None, declined: bool = False) -> dict[str, Any]:
    """The desk's decision for a message (POST /api/messages): answer, clarify, case, out of scope...

    `declined`: the citizen chose none of the entries offered for this message, so the desk hands it off.
    """
    return await _call(settings, token, "POST", "/api/messages",
                       json={"text": text, "conversation_id": conversation_id, "intent": intent,
                             "declined": declined})


async def choose_entry(settings: ActionSettings, token: str | None, *, text: str | None, conversation_id: str,
                       entry_id: str) -> dict[str, Any] | None:
    """The answer with the entry the citizen chose for `text` (POST /api/messages/choice); None if not offered."""
    return await _call(settings, token, "POST", "/api/messages/choice",
                       json={"text": text, "conversation_id": conversation_id, "entry_id": entry_id})


async def send_feedback(settings: ActionSettings, token: str | None, *, entry_id: str, entry_version: int | None,
                        conversation_id: str, helpful: bool) -> bool:
    """Record a "was this helpful?" vote (POST /api/kb/feedback); False when the desk knows no such entry."""
    recorded = await _call(settings, token, "POST", "/api/kb/feedback",
                           json={"entry_id": entry_id, "entry_version": entry_version,
                                 "conversation_id": conversation_id, "channel": None, "helpful": helpful})
    return recorded is not None


async def case_status(settings: ActionSettings, token: str | None, *, conversation_id: str,
                      text: str) -> list[dict[str, Any]] | None:
    """The cases a message asks about; None when it names a case number that does not exist."""
    return await _call(settings, token, "GET", "/api/cases/status",
                       params={"conversation_id": conversation_id, "text": text[:4000]})
