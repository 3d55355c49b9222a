"""HTTP client of the desk service's API, for the actions."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.actions.settings import ActionSettings


class DeskUnavailable(Exception):
    """The desk could not be reached or failed; the citizen is told so, nothing is made up."""


class MessageRejected(Exception):
    """The desk refused the message itself (empty or too long)."""


async def search_knowledge_base(settings: ActionSettings, text: str) -> dict[str, Any]:
    """The desk's answer-or-not decision for a message (POST /api/kb/search)."""
    timeout = aiohttp.ClientTimeout(total=settings.desk_timeout_s)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.post(f"{settings.desk_url}/api/kb/search", json={"text": text}) as response:
            if response.status == 422:
                raise MessageRejected(await response.text())
            if response.status != 200:
                raise DeskUnavailable(f"desk answered {response.status}")
            return await response.json()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DeskUnavailable(str(error)) from error
